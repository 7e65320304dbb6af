;; 48.3 Budget allocation by priority.
(define allocations
  (allocate-budget 100000
    '((research priority: 3)
      (writing priority: 2)
      (editing priority: 1))))
(write allocations) (newline)   ; ((research . 50000) (writing . 33333) (editing . 16667))

;; Each task then runs inside its own share.
(for-each (lambda (a)
            (with-budget (cdr a)
              (lambda ()
                (effect infer.op (list "Do the " (symbol->string (car a)) " step.") 'max-tokens 200)
                (display (list (car a) "spent" (budget-spent) "of" (cdr a)))
                (newline))))
          allocations)
