#!/usr/bin/env python3
"""Omega's OpenAI-compatible backend against a real model server.

Usage: Tests/llm/run.py OMEGA BASE_URL   (scripts/test-llm starts the server)
Each check runs `omega -e …` with --backend openai and compares with what the
server itself answers to the same request.
"""
import json, os, subprocess, sys, time, urllib.request

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
    assert source in ("counted", "estimated"), source


def key_never_printed():
    r = omega('(effect infer.op "x" \'model "no-such-model-really" \'max-tokens 3)')
    assert "sk-test-not-a-real-key" not in r.stdout + r.stderr
    r2 = subprocess.run([OMEGA, "--backend", "openai", "-e", '(effect infer.op "x")'], capture_output=True, text=True,
                        env=dict(ENV, OPENAI_BASE_URL="http://127.0.0.1:9/v1"), timeout=120)
    assert r2.returncode == 1 and "cannot reach 127.0.0.1:9" in r2.stderr, r2.stderr
    assert "sk-test-not-a-real-key" not in r2.stdout + r2.stderr


for name, fn in [("a plain call answers as the server does", plain_call),
                 ("int.op usage equals the server's", usage_matches_server),
                 ("max-tokens truncates with finish reason length", max_tokens_truncates),
                 ("search.op returns n charged samples", search_samples),
                 ("parallel-map keeps order", parallel_map_answers_in_order),
                 ("streaming gives the same text, usage counted locally", streaming_counts_locally),
                 ("errors never print the API key", key_never_printed)]:
    check(name, fn)

print(f"{7 - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
