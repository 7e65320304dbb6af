;; 48.4 Quality against cost.
(define text "Explain what a token budget is, in two sentences.")
(define (models-used thunk)
  (let ((models '()))
    (with-tracking (lambda (tokens r) (set! models (cons (result-model r) models))) thunk)
    (reverse models)))
(for-each (lambda (case)
            (display (list (car case) (cadr case) "→"
                           (guard (e ((error-object? e) (error-object-message e)))
                             (models-used (lambda () (generate-with-quality-target text (car case) (cadr case)))))))
            (newline))
          '((high 8000) (high 2000) (medium 3000) (medium 500) (low 100000)))
