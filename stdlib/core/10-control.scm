;;; Continuations, dynamic-wind and exceptions (R7RS 6.10, 6.11).
;;;
;;; The VM provides raw, re-enterable continuations (%call/cc) and two
;;; registers: the dynamic-wind list and the handler list. Everything else
;;; is here: the escape procedure call/cc hands out rewinds the dynamic-wind
;;; list to the one of its capture before jumping, and handler changes are
;;; dynamic-wind entries, so every exit and re-entry keeps them right.

(define (%common-tail a b)
  (let ((la (length a)) (lb (length b)))
    (let loop ((a (if (> la lb) (list-tail a (- la lb)) a))
               (b (if (> lb la) (list-tail b (- lb la)) b)))
      (if (eq? a b) a (loop (cdr a) (cdr b))))))

;; Leave the winders not shared with `to` (running their after thunks,
;; innermost first), then enter those of `to` (before thunks, outermost first).
(define (%wind-to to)
  (let* ((from (%current-winders))
         (common (%common-tail from to)))
    (let unwind ((l from))
      (if (not (eq? l common))
          (begin (%set-winders! (cdr l))
                 ((cdar l))
                 (unwind (cdr l)))))
    (let rewind ((l to))
      (if (not (eq? l common))
          (begin (rewind (cdr l))
                 ((caar l))
                 (%set-winders! l))))))

(define (call-with-current-continuation proc)
  (let ((winders (%current-winders)))
    (%call/cc
     (lambda (k)
       (proc (lambda results
               (%wind-to winders)
               (apply k results)))))))

(define call/cc call-with-current-continuation)

;; The thunk's result is passed on as it is: several values travel as one
;; object, so there is no list to make and spread again.
(define (dynamic-wind before thunk after)
  (before)
  (%set-winders! (cons (cons before after) (%current-winders)))
  (let ((result (thunk)))
    (%set-winders! (cdr (%current-winders)))
    (after)
    result))

(define (%with-handlers handlers thunk)
  (let ((outer (%current-handlers)))
    (dynamic-wind (lambda () (%set-handlers! handlers))
                  thunk
                  (lambda () (%set-handlers! outer)))))

(define (with-exception-handler handler thunk)
  (if (not (procedure? handler))
      (error "with-exception-handler: expected a procedure, got" handler))
  (%with-handlers (cons handler (%current-handlers)) thunk))

;; `raise` and `raise-continuable` are built-ins: the VM passes the raised
;; object here when a handler is installed (and reports it, located at the
;; raise, when none is). The handler runs with the handlers outside its own.
(define (%raise-continuable obj)
  (let ((handlers (%current-handlers)))
    (if (null? handlers)
        (%uncaught obj)
        (%with-handlers (cdr handlers) (lambda () ((car handlers) obj))))))

(define (%raise obj)
  (let ((handlers (%current-handlers)))
    (if (null? handlers)
        (%uncaught obj)
        (begin
          (%with-handlers (cdr handlers) (lambda () ((car handlers) obj)))
          ;; The handler returned: a secondary error, in the handler's context.
          (%with-handlers (cdr handlers)
            (lambda () (error "exception handler returned from a non-continuable raise of" obj)))))))

;; exit runs the after thunks of every active dynamic-wind first (R7RS 6.14).
(define (exit . status)
  (%may-exit (if (pair? status) (car status) #t))
  (%wind-to '())
  (%exit (if (pair? status) (car status) #t)))

(define (emergency-exit . status)
  (%exit (if (pair? status) (car status) #t)))
