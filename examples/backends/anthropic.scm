;; Anthropic's Messages API.
;;   ANTHROPIC_API_KEY=sk-ant-… omega --backend anthropic --model claude-haiku-4-5 examples/backends/anthropic.scm
(define r (effect int.op '((system . "Answer in one sentence.") (user . "What is a token budget?")) 'max-tokens 60))
(display (result-text r)) (newline)
(display (list 'input (result-input-tokens r) 'cache-read (result-cached-tokens r)
               'output (result-output-tokens r) 'cost (format-usd (or (result-cost r) 0))))
(newline)
