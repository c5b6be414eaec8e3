"""The ledger backend: balances in Redis, every call authenticated by a bearer token.

Run as ``uvicorn ledger_app:app`` (the Containerfile copies this one file);
LEDGER_REDIS_URL and LEDGER_TOKEN configure it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.redis = aioredis.from_url(os.environ.get("LEDGER_REDIS_URL", "redis://cache:6379/0"),
                                        socket_timeout=5)
    try:
        yield
    finally:
        await app.state.redis.aclose()


app = FastAPI(title="ledger", lifespan=lifespan)


def authorized(authorization: str = Header(default="")) -> None:
    if authorization != f"Bearer {os.environ.get('LEDGER_TOKEN', 'ledger-secret')}":
        raise HTTPException(status_code=401, detail="a valid bearer token is needed")


@app.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    try:
        await request.app.state.redis.ping()
    except (OSError, aioredis.RedisError) as exc:
        return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok"})


@app.get("/accounts/{number}", dependencies=[Depends(authorized)])
async def account(number: int, request: Request) -> dict[str, object]:
    balance = await request.app.state.redis.get(f"ledger:account:{number}")
    if balance is None:
        raise HTTPException(status_code=404, detail=f"no account {number}")
    return {"account": number, "balance_cents": int(balance)}
