;; Record real (or simulated) calls once, then replay them offline and free:
;;   omega --record calls.jsonl examples/backends/record-replay.scm
;;   omega --replay calls.jsonl examples/backends/record-replay.scm
(for-each (lambda (q) (display (effect infer.op q 'max-tokens 25)) (newline))
          '("Suggest a name for a budget tool." "Suggest a colour for its logo."))
