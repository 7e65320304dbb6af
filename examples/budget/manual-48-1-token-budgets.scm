;; 48.1 Token budgets. Run: omega examples/manual/48-1-token-budgets.scm
(define (expensive-operation)
  (map (lambda (topic) (effect infer.op (list "Write a detailed report on " topic) 'max-tokens 1000))
       '("costs" "tokens" "caching" "limits" "models" "ledgers" "alerts" "reports" "forecasts" "queues"
         "retries" "prices" "budgets" "agents" "windows" "levels" "modes" "spools")))

;; The built-in with-budget refuses a call *before* it would overspend,
;; with a budget-exceeded condition (here caught to show it).
(display
 (guard (e ((budget-exceeded? e) (list "stopped before overspending:" (error-object-message e))))
   (with-budget 10000  ; 10k token budget
     (lambda ()
       (length (expensive-operation))))))
(newline)

;; The manual's own definition runs too: it counts after the fact with
;; with-tracking, whose tracker gets each call's tokens.
(define (manual-with-budget budget-tokens thunk)
  (let ((spent 0))
    (define (track-spend tokens)
      (set! spent (+ spent tokens))
      (if (> spent budget-tokens)
          (error "Budget exceeded")))
    (with-tracking track-spend thunk)))
(display (guard (e ((error-object? e) (error-object-message e)))
           (manual-with-budget 10000 (lambda () (length (expensive-operation))))))
(newline)
