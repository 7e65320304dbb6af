;; The manual's chapter 48.2, as printed.
(define (adaptive-summarize documents remaining-budget)
  (cond
    ((> remaining-budget 50000)
      ;; Plenty of budget: detailed summaries
      (map (lambda (doc)
             (effect infer.op (list "Detailed summary: " doc)))
           documents))

    ((> remaining-budget 10000)
      ;; Moderate budget: brief summaries
      (map (lambda (doc)
             (effect infer.op (list "Brief summary (50 words): " doc)))
           documents))

    (else
      ;; Low budget: titles only
      (map (lambda (doc)
             (effect infer.op (list "Title only: " doc)))
           documents))))

;; ---- using it ----
(display (length (adaptive-summarize '("The quarterly report." "The migration plan.") 20000)))
(newline)
