;;; What an uncaught error looks like: run `omega examples/errors.scm`.
;;; The message names the procedure, the value and the place of the call,
;;; followed by the active calls.

(define (first-item x)
  (car x))

(display "about to fail\n")
(display (first-item 42))
