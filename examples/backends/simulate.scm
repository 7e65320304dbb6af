;; Dry-run a script with the offline simulator (the default backend):
;;   omega examples/backends/simulate.scm
;; Answers are simulated, deterministic, and counted exactly, so the script
;; shows what the real calls would cost.
(define docs '("Q3 revenue grew 12% on cloud sales." "The outage lasted 40 minutes." "Hiring is paused until March."))
(define results
  (parallel-map (lambda (d) (effect int.op (list "Brief summary (20 words): " d) 'model "gpt-4o-mini" 'max-tokens 40))
                docs))
(for-each (lambda (r)
            (display (result-input-tokens r)) (display " in, ")
            (display (result-output-tokens r)) (display " out, ")
            (display (format-usd (result-cost r)))
            (display (if (result-simulated? r) " (simulated)" "")) (newline))
          results)
(display "total: ")
(display (format-usd (apply + (map result-cost results))))
(newline)
