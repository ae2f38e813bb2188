"""A tiny stand-in for the Hugging Face Hub: the few routes `snapshot_download` uses, over folders."""

import hashlib
from pathlib import Path

from aiohttp import web


def git_blob_id(data: bytes) -> str:
    """The id git (and so the Hub) gives a file's content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def commit_of(repo_id: str) -> str:
    """A stable fake commit hash per repository."""
    return hashlib.sha1(repo_id.encode()).hexdigest()


class HubStub:
    """Serves each repository id from a local folder, at one commit, for any revision name."""

    def __init__(self, repos: dict[str, Path]) -> None:
        self.repos = repos
        self.requests: list[str] = []
        self.app = web.Application()
        self.app.router.add_get("/api/models/{org}/{name}/revision/{revision}", self.info)
        self.app.router.add_get("/api/models/{org}/{name}/tree/{revision}", self.tree)
        self.app.router.add_get("/{org}/{name}/resolve/{revision}/{path:.+}", self.resolve)
        self.runner: web.AppRunner | None = None

    async def start(self) -> str:
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        await self.runner.cleanup()

    def _files(self, request: web.Request) -> tuple[str, Path, list[str]]:
        repo_id = f"{request.match_info['org']}/{request.match_info['name']}"
        self.requests.append(f"{request.method} {request.path}")
        if repo_id not in self.repos:
            raise web.HTTPNotFound(headers={"X-Error-Code": "RepoNotFound"})
        folder = self.repos[repo_id]
        return repo_id, folder, sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())

    async def info(self, request: web.Request) -> web.Response:
        repo_id, _, files = self._files(request)
        return web.json_response(
            {"id": repo_id, "sha": commit_of(repo_id), "siblings": [{"rfilename": name} for name in files]}
        )

    async def tree(self, request: web.Request) -> web.Response:
        _, folder, files = self._files(request)
        entries = []
        for name in files:
            data = (folder / name).read_bytes()
            entries.append({"type": "file", "path": name, "size": len(data), "oid": git_blob_id(data)})
        return web.json_response(entries)

    async def resolve(self, request: web.Request) -> web.Response:
        repo_id, folder, files = self._files(request)
        name = request.match_info["path"]
        if name not in files:
            raise web.HTTPNotFound(headers={"X-Error-Code": "EntryNotFound"})
        data = (folder / name).read_bytes()
        headers = {"X-Repo-Commit": commit_of(repo_id), "ETag": f'"{git_blob_id(data)}"'}
        return web.Response(body=data, headers=headers, content_type="application/octet-stream")
