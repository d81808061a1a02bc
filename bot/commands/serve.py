"""``serve [--host H] [--port P]``: the staff web app, served by waitress."""

from __future__ import annotations

import argparse

from bot.commands._common import services_for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the staff web app (review, approve, send)")
    p.add_argument("--host", help="address to listen on (default: web.host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default: web.port, 8080)")
    p.add_argument("--threads", type=int, default=8, help="requests served at once (default 8)")
    p.add_argument(
        "--behind-proxy",
        action="store_true",
        help="an HTTPS reverse proxy on this machine forwards to us: trust its X-Forwarded-* "
        "headers and always mark the session cookie Secure",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import waitress
    from sqlalchemy import func, select

    from bot.store.users import User
    from bot.web import create_app

    services = services_for(args)
    config = services.config
    host = args.host or config.web.host
    port = args.port if args.port is not None else config.web.port
    # The cookie's Secure flag follows the address actually served, not only the config's.
    config = config.model_copy(update={"web": config.web.model_copy(update={"host": host, "port": port})})
    settings = {"SESSION_COOKIE_SECURE": True} if args.behind_proxy else {}
    app = create_app(config, services, settings=settings)
    with services.store.session() as s:
        if not s.scalar(select(func.count()).select_from(User)):
            print("serve: there are no accounts yet; add one with: python run.py users add NAME --role admin")
    proxy = {}
    if args.behind_proxy:
        proxy = {
            "trusted_proxy": "127.0.0.1",
            "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto x-forwarded-host",
            "clear_untrusted_proxy_headers": True,
        }
    print(f"serve: staff web app on http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    try:
        waitress.serve(app, host=host, port=port, threads=args.threads, ident="helpdesk", **proxy)
    finally:
        services.close()
    return 0
