"""A client for `omega serve`, the Omega budget service (Python 3 standard library only).

    from omega_budget import BudgetClient, BudgetExceeded
    budget = BudgetClient("http://127.0.0.1:8787", key="sk-omega-...")
    r = budget.reserve(model="gpt-4o-mini", prompt_tokens=1200, max_tokens=400)
    try:
        reply = call_your_model(...)                     # any provider, any SDK
        budget.settle(r["reservation_id"], reply.usage.prompt_tokens, reply.usage.completion_tokens)
    except Exception:
        budget.release(r["reservation_id"])              # the call was not made
        raise

Reserve before a call and the budget can never be overspent, by this agent or any
other sharing the ledger; `report_usage` (seed 002's `tokens.reportUsage`) only
records calls already made. `events()` yields `tokens.updated` after every settle.
"""
import http.client
import json
import urllib.parse
import urllib.request


class BudgetExceeded(Exception):
    """A call the budget cannot take: `message` is the service's (seed 002's) text, `data` its figures."""

    def __init__(self, message, data=None):
        super().__init__(message)
        self.data = data or {}


class ServiceError(Exception):
    """Any other JSON-RPC error: `code` and message as the service sent them."""

    def __init__(self, code, message):
        super().__init__(f"{message} (code {code})")
        self.code = code


class BudgetClient:
    def __init__(self, url, key=None, timeout=30):
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self._next = 0

    def _headers(self):
        h = {"Content-Type": "application/json"}
        if self.key:
            h["Authorization"] = f"Bearer {self.key}"
        return h

    def call(self, method, **params):
        """One JSON-RPC 2.0 call; returns its result or raises BudgetExceeded / ServiceError."""
        self._next += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._next, "method": method, "params": params}).encode()
        req = urllib.request.Request(self.url + "/rpc", data=body, headers=self._headers(), method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                answer = json.load(resp)
        except urllib.error.HTTPError as e:
            answer = json.load(e)
            raise ServiceError(e.code, answer.get("error", {}).get("message", str(e)))
        if "error" in answer:
            err = answer["error"]
            if err.get("code") == -32001:
                raise BudgetExceeded(err["message"], err.get("data"))
            raise ServiceError(err.get("code"), err.get("message"))
        return answer["result"]

    def reserve(self, max_tokens, model=None, prompt_tokens=None, messages=None):
        params = {"max_tokens": max_tokens}
        if model is not None:
            params["model"] = model
        if prompt_tokens is not None:
            params["prompt_tokens"] = prompt_tokens
        if messages is not None:
            params["messages"] = messages
        return self.call("tokens.reserve", **params)

    def settle(self, reservation_id, prompt_tokens, completion_tokens):
        return self.call("tokens.settle", reservation_id=reservation_id,
                         prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)

    def release(self, reservation_id):
        return self.call("tokens.release", reservation_id=reservation_id)

    def report_usage(self, model, prompt_tokens, completion_tokens, agent_id=None):
        params = {"model": model, "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
        if agent_id is not None:
            params["agent_id"] = agent_id
        return self.call("tokens.reportUsage", **params)

    def get_budget(self, **params):
        return self.call("tokens.getBudget", **params)

    def events(self):
        """Yields (event name, data dict) from the service's server-sent events, until it closes them."""
        parts = urllib.parse.urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=None)
        conn.request("GET", "/events", headers=self._headers())
        resp = conn.getresponse()
        if resp.status != 200:
            raise ServiceError(resp.status, resp.read().decode(errors="replace"))
        name, data = None, []
        while True:
            line = resp.readline()
            if not line:
                return
            line = line.decode().rstrip("\r\n")
            if line == "":
                if data:
                    yield name or "message", json.loads("\n".join(data))
                name, data = None, []
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
