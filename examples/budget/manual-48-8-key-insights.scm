;; 48.8 Key insights, in one run: a budget, an adaptive strategy, an
;; allocation, a quality choice, monitoring, an emergency mode, a forecast.
(with-budget 40000
  (lambda ()
    (define shares (allocate-budget (budget-remaining) '((draft priority: 2) (review priority: 1))))
    (monitor-budget-usage
     (lambda ()
       (with-budget (cdr (assq 'draft shares))
         (lambda () (adaptive-summarize '("First report." "Second report.") (budget-remaining))))
       (with-budget (cdr (assq 'review shares))
         (lambda () (generate-with-quality-target "Review the summaries." 'medium (budget-remaining))))))
    (emergency-mode (budget-remaining))
    (display (list "mode:" (current-mode) "remaining:" (budget-remaining))) (newline)
    (display (list "forecast:" (forecast-budget-needs '(review 1 report)
                                                      (lambda () (effect infer.op "Review." 'max-tokens 200)))))
    (newline)))
