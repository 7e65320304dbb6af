;; The manual's chapter 48.3, as printed. Only `sum`, which the manual
;; leaves undefined, is supplied here (get-priority is Omega's).
(define (sum xs) (apply + xs))

;; ---- as printed ----
(define (allocate-budget total-budget tasks)
  (let* ((num-tasks (length tasks))
         (priority-weights (map get-priority tasks))
         (total-weight (sum priority-weights))
         (allocations
           (map (lambda (task weight)
                  (cons task (* total-budget (/ weight total-weight))))
                tasks
                priority-weights)))
    allocations))

;; Example
(allocate-budget 100000
     '((research priority: 3)
       (writing priority: 2)
       (editing priority: 1)))

;; ---- the value, shown ----
(write (map cdr (allocate-budget 100000 '((research priority: 3) (writing priority: 2) (editing priority: 1)))))
(newline)
