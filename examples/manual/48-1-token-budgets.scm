;; The manual's chapter 48.1, as printed. Only `expensive-operation`, which
;; the manual leaves undefined, is supplied here.
(define (expensive-operation)
  (map (lambda (topic) (effect infer.op (list "Write a short report on " topic) 'max-tokens 300))
       '("costs" "tokens" "caching")))

;; ---- as printed ----
(define (with-budget budget-tokens thunk)
  (let ((spent 0))
    (define (track-spend tokens)
      (set! spent (+ spent tokens))
      (if (> spent budget-tokens)
          (error "Budget exceeded")))

    (with-tracking track-spend thunk)))

(with-budget 10000  ; 10k token budget
     (lambda ()
       (expensive-operation)))
;; Throws error if exceeds budget
