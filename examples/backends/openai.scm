;; Any OpenAI-compatible server: OpenAI, Groq, vLLM, llama.cpp, Ollama's /v1.
;;   OPENAI_API_KEY=sk-… omega --backend openai --model gpt-4o-mini examples/backends/openai.scm
;;   OPENAI_BASE_URL=http://127.0.0.1:8765/v1 omega --backend openai --model smollm2 examples/backends/openai.scm
(define r (effect int.op "Name three colours, comma separated." 'max-tokens 30 'temperature 0))
(display (result-text r)) (newline)
(display (list 'input (result-input-tokens r) 'output (result-output-tokens r)
               'usage (result-usage-source r) 'finish (result-finish-reason r)))
(newline)
(display (effect infer.op "Say hello in five words." 'max-tokens 20 'stream #t))
(newline)
