"""The fake Slack's files: upload v2 (files.getUploadURLExternal, the upload URL, files.completeUploadExternal).

Mixed into tests/support/fake_slack.FakeSlack. The flow is Slack's
(https://api.slack.com/messaging/files#upload): get an upload URL for a name and a length, POST the
bytes there, then complete the upload, which shares the files in a channel or thread as one message.
"""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp import web


class SlackFiles:
    port: int
    bot_user_id: str
    uploads: dict[str, dict[str, Any]]
    messages: dict[tuple[str, str], Any]
    _seq: itertools.count[int]

    def _next_ts(self) -> str:
        raise NotImplementedError

    def _posted(self, channel: str, ts: str, text: str, thread_ts: str | None, files: list[dict[str, Any]]) -> Any:
        raise NotImplementedError

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.uploads:
            return web.Response(status=404, text="unknown upload url", content_type="text/plain")
        if request.content_type.startswith("multipart/"):
            part = (await request.post()).get("file")
            content = part.file.read() if hasattr(part, "file") else str(part or "").encode()
        else:
            content = await request.read()
        self.uploads[file_id]["content"] = content
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    def _upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._seq):08d}"
        self.uploads[file_id] = {"filename": args["filename"], "length": int(args["length"]), "content": None}
        return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        shared = []
        for f in files:
            upload = self.uploads.get(str(f.get("id")))
            if upload is None or upload["content"] is None:
                return {"ok": False, "error": "file_not_found"}
            shared.append({"id": f["id"], "name": upload["filename"], "title": f.get("title") or upload["filename"],
                           "size": len(upload["content"])})
        channel = args.get("channel_id")
        if channel:
            thread_ts = args.get("thread_ts") or None
            if thread_ts and (channel, thread_ts) not in self.messages:
                return {"ok": False, "error": "thread_not_found"}
            posted = self._posted(channel, self._next_ts(), str(args.get("initial_comment") or ""), thread_ts, shared)
            self.messages[(channel, posted.ts)] = posted
        return {"ok": True, "files": shared}

    def file_content(self, file_id: str) -> bytes | None:
        return self.uploads[file_id]["content"]
