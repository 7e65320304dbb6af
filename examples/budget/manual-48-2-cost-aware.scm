;; 48.2 Cost-aware execution: the prompt depends on the budget left.
(define documents '("The quarterly report shows costs rising 4% while usage grew 9%."
                    "The migration plan moves the ledger to a shared database next month."))
(with-budget 30000
  (lambda ()
    (for-each (lambda (summary) (display (substring summary 0 (min 60 (string-length summary)))) (newline))
              (adaptive-summarize documents (budget-remaining)))
    (display (list "spent:" (budget-spent) "remaining:" (budget-remaining)))
    (newline)))
