#!/usr/bin/env python3
"""An unmodified OpenAI client (the `openai` package) pointed at `omega serve` in front of
a real model server: it gets the model's answers, metered, and is refused with HTTP 429
once its key's budget is spent.

Usage: Tests/llm/service.py OMEGA MODEL_BASE_URL   (scripts/test-llm starts the model server)
"""
import os, re, signal, subprocess, sys, tempfile, time

import openai

OMEGA, BASE = sys.argv[1], sys.argv[2]
KEY = "sk-omega-llm-test-000000000000"
LIMIT = 600

with tempfile.TemporaryDirectory() as d:
    keys = os.path.join(d, "keys.toml")
    with open(keys, "w") as f:
        f.write(f'[keys.agent]\nkey = "{KEY}"\nagent = "smol-agent"\n[keys.agent.limits]\ntokens = {LIMIT}\n')
    env = dict(os.environ, OPENAI_BASE_URL=BASE, OPENAI_API_KEY="sk-upstream-not-real", OMEGA_BACKEND="openai",
               OMEGA_LEDGER=os.path.join(d, "ledger.sqlite"))
    log = open(os.path.join(d, "serve.log"), "w+")
    serve = subprocess.Popen([OMEGA, "serve", "--listen", "127.0.0.1:0", "--keys", keys, "--model", "smollm2"],
                             env=env, stderr=log, stdout=subprocess.DEVNULL)
    port = None
    for _ in range(600):
        log.seek(0)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", log.read())
        if m:
            port = int(m.group(1))
            break
        if serve.poll() is not None:
            break
        time.sleep(0.05)
    failures = []
    try:
        assert port, "omega serve did not start: " + open(log.name).read()
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0)
        answers, used, refused = 0, 0, None
        for i in range(40):
            try:
                r = client.chat.completions.create(model="smollm2", max_tokens=48, temperature=0,
                                                   messages=[{"role": "user", "content": f"Name a colour. ({i})"}])
            except openai.RateLimitError as e:
                refused = e
                break
            assert r.choices[0].message.content is not None
            answers += 1
            used += r.usage.total_tokens
        print(f"      {answers} answers from SmolLM2 through omega serve, {used} tokens by the server's usage; limit {LIMIT}")
        assert answers >= 2, answers
        assert refused is not None, "never refused"
        assert refused.status_code == 429
        assert "would exceed limit of 600 tokens" in str(refused), str(refused)
        assert used <= LIMIT, used
        # A key the service does not know is refused before anything is sent.
        client2 = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-omega-not-a-key-0000", max_retries=0)
        try:
            client2.chat.completions.create(model="smollm2", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
            failures.append("an unknown key was served")
        except openai.AuthenticationError:
            pass
        print("ok    an unmodified OpenAI client is metered by omega serve and refused with 429 past its budget")
    except Exception as e:
        failures.append(str(e))
        print(f"FAIL  openai client through omega serve: {e}")
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            serve.kill()
            failures.append("omega serve did not stop on SIGTERM")
        if serve.returncode not in (0, None):
            failures.append(f"omega serve exited {serve.returncode}: " + open(log.name).read()[-2000:])
    sys.exit(1 if failures else 0)
