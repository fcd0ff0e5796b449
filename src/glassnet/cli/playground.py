"""`glassnet playground`: start the local web server of the playground and open its page.

    glassnet playground                          # http://127.0.0.1:8765/, opens the browser
    glassnet playground --port 0 --no-browser    # any free port; prints the address only
    glassnet playground --host 0.0.0.0           # reachable from the network (a warning says so)

The server is glassnet.playground.server (standard library only); it runs until Ctrl-C.  A port that is
taken is one line `glassnet: error: ...` naming host:port (exit 1); a bad --host or --port is a usage
error (exit 2).
"""
from __future__ import annotations

import argparse
import errno

from ._common import CommandError, Formatter

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MAX_PORT = 65535


def port(text):
    """An argument type: a TCP port from 0 (any free port) to 65535."""
    try:
        value = int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to {MAX_PORT}, got {text!r}") from None
    if not 0 <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to {MAX_PORT} (0: any free port), "
                                         f"got {text!r}")
    return value


port.limit = MAX_PORT         # the stated bound (tests/cli/test_catalogue.py checks every integer option has one)


def host(text):
    """An argument type: an IP address or localhost (names are not looked up)."""
    from ..playground.server import check_host
    try:
        return check_host(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an IP address such as 127.0.0.1 or 0.0.0.0, or localhost, "
                                         f"got {text!r}") from None


def add_parser(sub):
    parser = sub.add_parser(
        "playground", formatter_class=Formatter, help="train a small network in the browser, every number a click away",
        description="Start the playground: a local web page where a real glassnet network learns a toy data set\n"
                    "step by step. It shows the decision boundary, each neuron's output, the weights, the loss\n"
                    "curves and the doctor's findings; click a neuron or an edge for the numbers of its last\n"
                    "step; export the training as a Python script or save the model. Runs until Ctrl-C.\n"
                    "See docs/cli.md.",
        epilog="examples:\n"
               "  glassnet playground                          # http://127.0.0.1:8765/ in your browser\n"
               "  glassnet playground --port 0 --no-browser    # any free port; the address is printed\n"
               "  glassnet playground --host 0.0.0.0           # a classroom: reachable from the network")
    parser.add_argument("--host", type=host, default=DEFAULT_HOST, metavar="ADDRESS",
                        help=f"the address to listen on (default: {DEFAULT_HOST}, this machine only); another "
                             f"address lets anyone on the network use the playground")
    parser.add_argument("--port", type=port, default=DEFAULT_PORT, metavar="N",
                        help=f"the TCP port (default: {DEFAULT_PORT}; 0: any free port)")
    parser.add_argument("--no-browser", dest="browser", action="store_false",
                        help="print the address without opening a browser")
    parser.set_defaults(handler=cmd_playground, parser=parser)


def cmd_playground(args, out, err):
    from ..playground.server import serve
    try:
        serve(args.host, args.port, open_browser=args.browser, out=out, err=err)
    except OSError as exc:
        where = f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}"
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(f"cannot listen on {where}: the address is already in use (another playground? "
                               f"choose another --port, or --port 0 for any free one)") from None
        raise CommandError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    return 0
