;;; R7RS 6.11: the exact semantics of handlers, raise and guard.

;; A handler runs with the handlers outside its own installed.
(test '(outer (inner x))
      (with-exception-handler
       (lambda (e) (list 'outer e))
       (lambda ()
         (with-exception-handler
          (lambda (e) (raise-continuable (list 'inner e)))
          (lambda () (raise-continuable 'x))))))

;; A handler that returns from a non-continuable raise: a secondary error,
;; raised in the handler's dynamic environment (so the outer handler gets it).
(test #t
      (call/cc
       (lambda (k)
         (with-exception-handler
          (lambda (e) (k (error-object? e)))
          (lambda ()
            (with-exception-handler (lambda (e) 'returned) (lambda () (raise 'boom))))))))

;; raise-continuable: the handler's value is raise-continuable's.
(test 65 (with-exception-handler (lambda (c) 42) (lambda () (+ (raise-continuable 'c) 23))))

;; guard re-raises what no clause takes with raise-continuable, in the
;; dynamic environment of the original raise: an outer handler's answer
;; becomes the value of that raise.
(test 43 (with-exception-handler
          (lambda (e) 42)
          (lambda () (+ 1 (guard (e ((string? e) 'no)) (raise-continuable 'sym))))))

;; guard's clauses run in guard's dynamic environment, the body's in its own.
(define p (make-parameter 1))
(test 1 (guard (e (#t (p))) (parameterize ((p 2)) (raise 'x))))
(test 3 (with-exception-handler (lambda (e) (p)) (lambda () (parameterize ((p 3)) (raise-continuable 'x)))))
(test '(in out handler)
      (let ((trail '()))
        (guard (e (#t (set! trail (cons 'handler trail)) (reverse trail)))
          (dynamic-wind (lambda () (set! trail (cons 'in trail)))
                        (lambda () (raise 'x))
                        (lambda () (set! trail (cons 'out trail)))))))
(test 42 (guard (e ((assq 'a e) => cdr) ((assq 'b e))) (raise (list (cons 'a 42)))))
(test '(b . 23) (guard (e ((assq 'a e) => cdr) ((assq 'b e))) (raise (list (cons 'b 23)))))
(test '(1 2) (call-with-values (lambda () (guard (e (#t 0)) (values 1 2))) list))

;; Every built-in error is an error object with a message and irritants.
(define (caught thunk)
  (guard (e ((error-object? e) (list (string? (error-object-message e)) (list? (error-object-irritants e)))))
    (thunk)
    'no-error))
(test '(#t #t) (caught (lambda () (car 1))))
(test '(#t #t) (caught (lambda () (vector-ref (vector 1) 5))))
(test '(#t #t) (caught (lambda () (undefined-variable-here))))
(test '(#t #t) (caught (lambda () (/ 1 0))))
(test '(#t #t) (caught (lambda () (string-ref "abc" 10))))
(test '(#t #t) (caught (lambda () ((lambda (x) x)))))
(test '(#t #t) (caught (lambda () (open-input-file "/nonexistent/omega"))))
(test '(#t #t) (caught (lambda () (read (open-input-string "(1 2")))))
(test '(1) (guard (e (#t (error-object-irritants e))) (car 1)))
(test #t (file-error? (guard (e (#t e)) (open-input-file "/nonexistent/omega"))))
(test #t (read-error? (guard (e (#t e)) (read (open-input-string ")")))))
(test '("boom" (1 2)) (guard (e (#t (list (error-object-message e) (error-object-irritants e)))) (error "boom" 1 2)))
