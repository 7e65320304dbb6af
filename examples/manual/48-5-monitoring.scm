;; The manual's chapter 48.5, as printed (get-budget, current-time,
;; on-completion and execute are Omega's).
(define (monitor-budget-usage task)
  (let ((initial-budget (get-budget))
        (start-time (current-time)))

    (define (report-usage)
      (let ((spent (- initial-budget (get-budget)))
            (duration (- (current-time) start-time)))
        (display (list "Budget used:" spent "tokens in" duration "seconds"))
        (display (list "Rate:" (/ spent duration) "tokens/sec"))))

    (on-completion report-usage)
    (execute task)))

;; ---- using it, under a budget (get-budget is what is left of it) ----
(with-budget 50000
  (lambda ()
    (monitor-budget-usage
     (lambda ()
       (parallel-map (lambda (q) (effect infer.op q 'max-tokens 300 'simulate-latency 0.1))
                     '("Plan the week." "List the risks." "Draft the email."))))))
(newline)
