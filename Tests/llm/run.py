#!/usr/bin/env python3
"""Omega's OpenAI-compatible backend against a real model server.

Usage: Tests/llm/run.py OMEGA BASE_URL   (scripts/test-llm starts the server)
Each check runs `omega -e …` with --backend openai and compares with what the
server itself answers to the same request.
"""
import http.server, json, os, subprocess, sys, tempfile, threading, time, urllib.request
from fractions import Fraction

OMEGA, BASE = sys.argv[1], sys.argv[2]
ENV = dict(os.environ, OPENAI_BASE_URL=BASE, OPENAI_API_KEY="sk-test-not-a-real-key", OMEGA_BACKEND="openai")
failures = []


def omega(expr, *flags):
    r = subprocess.run([OMEGA, "--model", "smollm2", *flags, "-e", expr], env=ENV, capture_output=True, text=True, timeout=300)
    return r


def value(expr, *flags):
    """Runs expr, which must print one JSON value with (display (json …))-free Scheme: we write lists as JSON by hand."""
    r = omega(expr, *flags)
    if r.returncode != 0:
        raise AssertionError(f"omega failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout.strip()


def server(messages, max_tokens, stream=False):
    body = {"model": "smollm2", "messages": messages, "max_tokens": max_tokens, "temperature": 0}
    req = urllib.request.Request(BASE + "/chat/completions", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.load(resp)


def reference(messages, max_tokens):
    """The server's answer to a request, asked twice: llama.cpp's answer can
    differ while its prompt cache warms up, so the second answer is the one
    the same request gets next — Omega's, sent right after."""
    server(messages, max_tokens)
    return server(messages, max_tokens)


def check(name, fn):
    start = time.time()
    try:
        fn()
        print(f"ok    {name} ({time.time() - start:.1f} s)")
    except Exception as e:  # report every failure, then fail the run
        failures.append(name)
        print(f"FAIL  {name}: {e}")


# Scheme that prints a result's fields as one JSON object.
FIELDS = """(define (show r)
  (write (list (result-text r) (result-input-tokens r) (result-output-tokens r)
               (result-finish-reason r) (symbol->string (result-usage-source r)) (result-backend r))))"""


def fields(text):
    # write of a list of strings/numbers → JSON array after a small rewrite
    inner = text.strip()[1:-1]
    return json.loads("[" + ",".join(split_scheme(inner)) + "]")


def split_scheme(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == " ":
            i += 1
        elif s[i] == '"':
            j = i + 1
            while s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            out.append(s[i:j + 1])
            i = j + 1
        else:
            j = i
            while j < len(s) and s[j] != " ":
                j += 1
            out.append(s[i:j])
            i = j
    return out


def plain_call():
    direct = reference([{"role": "user", "content": "Say hello in one short sentence."}], 20)
    r = value('(display (effect infer.op "Say hello in one short sentence." \'max-tokens 20 \'temperature 0))')
    assert r == direct["choices"][0]["message"]["content"], f"{r!r} != {direct['choices'][0]['message']['content']!r}"
    assert r, "empty answer"


def usage_matches_server():
    direct = reference([{"role": "user", "content": "Name three colours."}], 30)
    out = value(FIELDS + ' (show (effect int.op "Name three colours." \'max-tokens 30 \'temperature 0))')
    text, inp, outp, finish, source, backend = fields(out)
    u = direct["usage"]
    assert (inp, outp) == (u["prompt_tokens"], u["completion_tokens"]), f"omega {inp}/{outp}, server {u}"
    assert text == direct["choices"][0]["message"]["content"]
    assert source == "reported" and backend == "openai", (source, backend)
    assert finish == direct["choices"][0]["finish_reason"]


def max_tokens_truncates():
    out = value(FIELDS + ' (show (effect int.op "Write a long story about a dragon." \'max-tokens 5 \'temperature 0))')
    _, _, outp, finish, _, _ = fields(out)
    assert outp == 5 and finish == "length", (outp, finish)


def search_samples():
    out = value('(write (map result-output-tokens (effect search.op "Suggest a name for a cat." \'n 3 \'max-tokens 12)))')
    counts = [int(x) for x in out.strip("()").split()]
    assert len(counts) == 3 and all(0 < c <= 12 for c in counts), counts


def parallel_map_answers_in_order():
    prompts = ["Say one.", "Say two.", "Say three.", "Say four."]
    expr = ('(write (parallel-map (lambda (p) (effect infer.op p \'max-tokens 12 \'temperature 0)) (list '
            + " ".join(json.dumps(p) for p in prompts) + ") 4))")
    start = time.time()
    out = value(expr)
    parallel = time.time() - start
    got = json.loads("[" + ",".join(split_scheme(out.strip()[1:-1])) + "]")
    # Answers in the order of the prompts (each names its number).
    assert len(got) == 4 and all(isinstance(g, str) and g for g in got), got
    print(f"      parallel-map of 4 calls: {parallel:.2f} s")


def streaming_counts_locally():
    direct = reference([{"role": "user", "content": "Name three colours."}], 30)
    out = value(FIELDS + ' (show (effect int.op "Name three colours." \'max-tokens 30 \'temperature 0 \'stream #t))')
    text, inp, outp, finish, source, _ = fields(out)
    assert text == direct["choices"][0]["message"]["content"], (text, direct["choices"][0]["message"]["content"])
    # llama.cpp sends no usage when streaming: Omega counts, never zero.
    assert inp > 0 and outp > 0, (inp, outp)
    # SmolLM2's tokenizer is not Omega's: the counts are bounds, never too low.
    assert source == "bounded", source
    assert inp >= direct["usage"]["prompt_tokens"] and outp >= direct["usage"]["completion_tokens"], (inp, outp, direct["usage"])


def key_never_printed():
    r = omega('(effect infer.op "x" \'model "no-such-model-really" \'max-tokens 3)')
    assert "sk-test-not-a-real-key" not in r.stdout + r.stderr
    r2 = subprocess.run([OMEGA, "--backend", "openai", "-e", '(effect infer.op "x")'], capture_output=True, text=True,
                        env=dict(ENV, OPENAI_BASE_URL="http://127.0.0.1:9/v1"), timeout=120)
    assert r2.returncode == 1 and "cannot reach 127.0.0.1:9" in r2.stderr, r2.stderr
    assert "sk-test-not-a-real-key" not in r2.stdout + r2.stderr




# Budgets under concurrency, against the real server: 64 calls, 16 in flight,
# a limit most of them cannot fit. What the server itself reported for the
# calls it answered must add up to no more than the limit.
BATCH = """(define (show-batch rs group)
  (for-each (lambda (r) (when r (write (list group (result-input-tokens r) (result-output-tokens r)
                                             (symbol->string (result-usage-source r))))
                              (newline)))
            rs)
  (display "refused ") (display (length (filter not rs))) (newline))
(define (batch n in-flight)
  (parallel-map (lambda (i)
                  (guard (e ((budget-exceeded? e) #f))
                    (effect int.op (string-append "Say the number " (number->string i) ".") 'max-tokens 8 'temperature 0)))
                (iota n) in-flight))
"""
PRICES = '[prices.models."smollm2"]\nprovider = "openai"\ninput = 100\noutput = 200\n'
FIGURES = []


def budget_run(body, ledger, config=None):
    flags = ["--ledger", ledger] + (["--config", config] if config else [])
    r = subprocess.run([OMEGA, "--model", "smollm2", *flags, "-e", BATCH + body], env=ENV, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, f"omega failed ({r.returncode}): {r.stderr.strip()[-800:]}"
    assert "used more than was reserved" not in r.stderr, r.stderr
    calls, refused = [], 0
    for line in r.stdout.splitlines():
        if line.startswith("refused "):
            refused += int(line.split()[1])
        elif line.startswith("("):
            g, i, o, src = line.strip("()").split()
            assert src == '"reported"', line
            calls.append((int(g), int(i), int(o)))
    return calls, refused


def budgets_hold_under_concurrency():
    with tempfile.TemporaryDirectory() as d:
        ledger = os.path.join(d, "ledger.sqlite")
        config = os.path.join(d, "config.toml")
        with open(config, "w") as f:
            f.write(PRICES)
        for run in ("uncalibrated", "calibrated"):
            calls, refused = budget_run("(show-batch (with-budget 600 (lambda () (batch 64 16))) 0)", ledger)
            billed = sum(i + o for _, i, o in calls)
            FIGURES.append(f"tokens ({run}): limit 600, server billed {billed} in {len(calls)} calls, {refused} refused")
            assert billed <= 600 and refused >= 32 and len(calls) > 0, (billed, len(calls), refused)
        calls, refused = budget_run("(show-batch (with-budget (budget 'usd 0.05) (lambda () (batch 64 16))) 0)", ledger, config)
        dollars = sum(Fraction(i * 100 + o * 200, 1_000_000) for _, i, o in calls)
        FIGURES.append(f"usd: limit $0.05, server usage costs ${float(dollars):.6f} in {len(calls)} calls, {refused} refused")
        assert dollars <= Fraction(5, 100) and refused >= 32 and calls, (dollars, len(calls), refused)
        calls, refused = budget_run("(show-batch (with-budget (budget 'calls 10) (lambda () (batch 64 16))) 0)", ledger)
        FIGURES.append(f"calls: limit 10, server answered {len(calls)}, {refused} refused")
        assert len(calls) == 10 and refused == 54, (len(calls), refused)
        calls, refused = budget_run("""(with-budget 900 (lambda ()
            (parallel-map (lambda (g) (show-batch (with-budget 300 (lambda () (batch 16 4))) g)) '(1 2 3 4) 4)))
            (newline)""", ledger)
        per = {g: sum(i + o for gg, i, o in calls if gg == g) for g in (1, 2, 3, 4)}
        FIGURES.append(f"nested: 4 scopes of 300 inside 900, server billed {per} = {sum(per.values())}, {refused} refused")
        assert all(v <= 300 for v in per.values()) and sum(per.values()) <= 900 and refused >= 32, (per, refused)


class IgnoresMaxTokens(http.server.BaseHTTPRequestHandler):
    """A server that answers three times max_tokens, one request at a time."""
    delivered = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        time.sleep(0.2)
        out = 3 * body.get("max_tokens", 16)
        answer = json.dumps({"id": "x", "model": body["model"], "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "word " * out}}],
                             "usage": {"prompt_tokens": 30, "completion_tokens": out, "total_tokens": 30 + out}}).encode()
        try:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            self.wfile.flush()
            IgnoresMaxTokens.delivered.append(30 + out)
        except OSError:
            pass  # the client had gone: nothing delivered, nothing billed

    def log_message(self, *args):
        pass


def a_server_ignoring_max_tokens_stops_the_run():
    server = http.server.HTTPServer(("127.0.0.1", 0), IgnoresMaxTokens)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = dict(ENV, OPENAI_BASE_URL=f"http://127.0.0.1:{server.server_address[1]}/v1")
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([OMEGA, "--model", "fake-model", "--ledger", os.path.join(d, "l.sqlite"), "-e",
                                '(with-budget 1000 (lambda () (parallel-map (lambda (i) (guard (e ((budget-exceeded? e) #f)) (effect infer.op (list "n" i) \'max-tokens 20))) (iota 64) 16)))'],
                               env=env, capture_output=True, text=True, timeout=300)
        time.sleep(0.5)  # let the server finish what it was writing
        billed = sum(IgnoresMaxTokens.delivered)
        FIGURES.append(f"ignores max-tokens: limit 1000, server delivered {len(IgnoresMaxTokens.delivered)} answers = {billed} tokens, exit {r.returncode}")
        assert r.returncode == 3, (r.returncode, r.stderr)
        assert "ignores max-tokens" in r.stderr, r.stderr
        # At most one call over: the one reply that showed the server ignores max-tokens.
        assert billed <= 1000 + (60 - 20), billed
    finally:
        server.shutdown()


for name, fn in [("a plain call answers as the server does", plain_call),
                 ("int.op usage equals the server's", usage_matches_server),
                 ("max-tokens truncates with finish reason length", max_tokens_truncates),
                 ("search.op returns n charged samples", search_samples),
                 ("parallel-map keeps order", parallel_map_answers_in_order),
                 ("streaming gives the same text, usage counted locally", streaming_counts_locally),
                 ("errors never print the API key", key_never_printed),
                 ("budgets hold under concurrency (tokens, usd, calls, nested)", budgets_hold_under_concurrency),
                 ("a server that ignores max-tokens stops the run", a_server_ignoring_max_tokens_stops_the_run)]:
    check(name, fn)

for f in FIGURES:
    print("      " + f)
print(f"{9 - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
