;; Ollama's native API (OLLAMA_HOST, default 127.0.0.1:11434).
;;   omega --backend ollama --model llama3.2 examples/backends/ollama.scm
(display (effect infer.op "Why is the sky blue? One sentence." 'max-tokens 60))
(newline)
