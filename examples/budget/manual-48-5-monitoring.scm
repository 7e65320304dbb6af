;; 48.5 Budget monitoring: tokens, seconds and rate of a task.
(define result
  (monitor-budget-usage
   (lambda ()
     (parallel-map (lambda (q) (effect infer.op q 'max-tokens 300 'simulate-latency 0.2))
                   '("Plan the week." "List the risks." "Draft the email." "Summarise the notes.")))))
(display (list (length result) "answers")) (newline)
