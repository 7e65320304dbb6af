"""An agent that spends a budget through `omega serve`: it listens for budget events,
then reserves, calls a model, and settles with the usage the model reported, until the
budget refuses.

    python3 examples/service/agent.py http://127.0.0.1:8787 sk-omega-... [MODEL_URL]

With MODEL_URL (an OpenAI-compatible server such as llama.cpp's, `http://HOST:PORT/v1`)
the calls go there; without it a stand-in model answers, so the example runs anywhere.
"""
import json
import sys
import time
import threading
import urllib.request

from omega_budget import BudgetClient, BudgetExceeded


def call_model(model_url, prompt, max_tokens):
    """Your model call, with any provider or SDK: what matters is the usage it reports."""
    if model_url is None:
        # A stand-in: about one token per word of the prompt, and a short answer.
        return {"usage": {"prompt_tokens": len(prompt.split()) + 7, "completion_tokens": min(max_tokens, 23)}}
    body = json.dumps({"messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens}).encode()
    req = urllib.request.Request(model_url.rstrip("/") + "/chat/completions", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.load(resp)


_print_lock = threading.Lock()


def say(line):
    """One whole line at a time: the listener thread prints too."""
    with _print_lock:
        print(line, flush=True)


def main(url, key, model_url=None, calls=20):
    budget = BudgetClient(url, key)
    seen = []
    listening = threading.Event()

    def listen():
        events = budget.events()
        listening.set()
        for name, data in events:
            seen.append(data)
            say(f"event {name}: total_used={data['total_used']} usage_percentage={data['usage_percentage']}")

    threading.Thread(target=listen, daemon=True).start()
    listening.wait(5)
    for i in range(calls):
        prompt = f"Summarise part {i} of the budget report in one line."
        try:
            r = budget.reserve(max_tokens=60, messages=[{"role": "user", "content": prompt}])
        except BudgetExceeded as e:
            say(f"refused: {e}")
            break
        try:
            reply = call_model(model_url, prompt, 60)
        except Exception:
            budget.release(r["reservation_id"])
            raise
        usage = reply["usage"]
        charged = budget.settle(r["reservation_id"], usage["prompt_tokens"], usage["completion_tokens"])
        say(f"call {i}: reserved {r['reserved']['total_tokens']}, charged {charged['charged']['total_tokens']}")
    time.sleep(0.5)  # the last event on its way
    status = budget.get_budget()
    say(f"budget: total_used={status['total_used']} remaining={status['remaining_budget']}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None, sys.argv[3] if len(sys.argv) > 3 else None)
