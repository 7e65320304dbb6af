;; A library loaded from a file by r7rs-5-libraries.scm: a private helper,
;; a renamed export, an exported macro, and a count that stays live.
(define-library (omega-test counter)
  (export next! (rename current-count count) twice)
  (import (scheme base))
  (begin
    (define current-count 0)
    (define (helper n) (+ n 1))
    (define (next!) (set! current-count (helper current-count)) current-count)
    (define-syntax twice (syntax-rules () ((_ e) (begin e e))))))
