"""The web chat (the only package that imports gradio).

Belongs here: the browser's view and its HTTP API, over core.protocols.AssistantAPI.
`app` wires the Gradio page, `chat` holds its behaviour as plain methods (tested without a
browser), `render` turns answers and documents into HTML and Markdown, `serve` checks the
bind address and serves the page, the MCP server and the OpenAI API on one port, `tools`
holds the read-only API endpoints (also the MCP tools), `openai_api` the /v1 routes,
`guard` refuses foreign hosts, cross-site writes and oversized uploads, `apigate` checks
the APIs' Bearer token and body size, and `uploads` moves uploaded files into the corpus.
"""
