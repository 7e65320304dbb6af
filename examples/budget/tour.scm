;; A tour of the meter: run with `omega examples/budget/tour.scm`
;; (the offline simulator answers; add --backend openai for real calls).

(define (show label value) (display label) (display ": ") (write value) (newline))

;; 1. A scope: the worst case (prompt + max-tokens) is reserved before the
;;    call is sent, so a call that might not fit is refused, not overspent.
(with-budget 2000
  (lambda ()
    (effect infer.op "Summarise the quarterly report in three sentences." 'max-tokens 300)
    (show "spent in the scope" (budget-spent))
    (show "remaining" (budget-remaining))))

;; 2. Refusals are conditions: catch one ...
(show "refused"
      (guard (e ((budget-exceeded? e) (error-object-message e)))
        (with-budget 100 (lambda () (effect infer.op "Write an essay." 'max-tokens 500)))))

;; ... or approve more from a handler (raise-continuable: the call then goes on).
(show "approved"
      (with-exception-handler
       (lambda (c) (if (budget-exceeded? c) 1000 (raise c)))
       (lambda ()
         (with-budget 100
           (lambda () (string-length (effect infer.op "Write an essay." 'max-tokens 500)))))))

;; 3. Per agent limits, and many calls in flight under one budget.
(set-budget! 'agent "researcher" 3000)
(define answers
  (with-agent "researcher"
    (lambda ()
      (guard (e (#t (parallel-map-results e)))
        (parallel-map (lambda (topic) (effect infer.op (string-append "Notes on " topic) 'max-tokens 400))
                      '("tokens" "budgets" "ledgers" "caches" "queues" "retries" "prices" "limits"))))))
(show "answered" (length (filter string? answers)))
(show "refused" (length (filter budget-exceeded? answers)))
(for-each (lambda (s) (when (equal? (cdr (assq 'kind s)) 'agent)
                        (show "agent researcher used" (cdr (assq 'used s)))))
          (with-agent "researcher" budget-status))

;; 4. Money and time budgets, and degradation to a cheaper model at 50%.
(with-budget (budget 'usd 0.02 'seconds 30 'degrade '((50 model "gpt-4o-mini" "gpt-4o")))
  (lambda ()
    (with-tracking (lambda (tokens r) (show "call" (list (result-model r) (result-total-tokens r) (format-usd (result-cost r)))))
      (lambda ()
        (let loop ((i 0))
          (when (and (< i 8) (> (budget-remaining 'usd) 1/500))
            (effect infer.op (string-append "Draft " (number->string i)) 'model "gpt-4o" 'max-tokens 200)
            (loop (+ i 1))))))))

(show "by model" (map (lambda (m) (cons (car m) (cdr (assq 'tokens (cdr m))))) (budget-usage-by 'model)))
