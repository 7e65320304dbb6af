;; 48.7 Forecasting from the ledger's history of similar tasks.
(define (summarize-documents n)
  (lambda ()
    (for-each (lambda (i) (effect infer.op (list "Summarise document " (number->string i)) 'max-tokens 120))
              (iota n))))

;; No history yet: a dry run on the offline simulator (nothing charged).
(display (forecast-budget-details '(summarize 100 documents) (summarize-documents 100))) (newline)

;; Record two real runs of smaller jobs; the forecast scales them to 100.
(with-task '(summarize 10 documents) (summarize-documents 10))
(with-task '(summarize 20 documents) (summarize-documents 20))
(display (forecast-budget-needs '(summarize 100 documents))) (newline)   ; mean × 1.5
(display (forecast-budget-details '(summarize 100 documents))) (newline)
