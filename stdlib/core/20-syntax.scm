;;; Derived syntax of R7RS written as syntax-rules macros: guard,
;;; parameterize, multiple-value binding, case-lambda, promises, records.

;; (guard (var clause ...) body ...) — R7RS 4.2.7, after the report's own
;; definition: the body runs with a handler that, on a raise, returns to the
;; guard's continuation to test the clauses, and re-raises (continuably, in
;; the dynamic environment of the original raise) when none matches.
(define-syntax guard
  (syntax-rules ()
    ((guard (var clause ...) e1 e2 ...)
     ((call/cc
       (lambda (guard-k)
         (with-exception-handler
          (lambda (condition)
            ((call/cc
              (lambda (handler-k)
                (guard-k
                 (lambda ()
                   (let ((var condition))
                     (%guard-clauses
                      (handler-k (lambda () (raise-continuable condition)))
                      clause ...))))))))
          (lambda ()
            ;; A body that returns is already in guard-k's continuation:
            ;; return to it plainly instead of invoking guard-k (which would
            ;; copy the captured stack back for nothing).
            (call-with-values
             (lambda () e1 e2 ...)
             (lambda args (lambda () (apply values args))))))))))))

(define-syntax %guard-clauses
  (syntax-rules (else =>)
    ((_ reraise (else result1 result2 ...))
     (begin result1 result2 ...))
    ((_ reraise (test => result))
     (let ((temp test)) (if temp (result temp) reraise)))
    ((_ reraise (test => result) clause1 clause2 ...)
     (let ((temp test)) (if temp (result temp) (%guard-clauses reraise clause1 clause2 ...))))
    ((_ reraise (test))
     (or test reraise))
    ((_ reraise (test) clause1 clause2 ...)
     (let ((temp test)) (if temp temp (%guard-clauses reraise clause1 clause2 ...))))
    ((_ reraise (test result1 result2 ...))
     (if test (begin result1 result2 ...) reraise))
    ((_ reraise (test result1 result2 ...) clause1 clause2 ...)
     (if test (begin result1 result2 ...) (%guard-clauses reraise clause1 clause2 ...)))))

;;; Parameters (R7RS 4.2.6). A parameter is a procedure: called with no
;;; arguments it returns its value; parameterize reaches its setter and
;;; converter through private tokens.

(define %param-set (list 'parameter-set))
(define %param-converter (list 'parameter-converter))

(define (%make-parameter-procedure get set converter)
  (lambda args
    (cond ((null? args) (get))
          ((eq? (car args) %param-set) (set (cadr args)))
          ((eq? (car args) %param-converter) converter)
          (else (error "a parameter takes no arguments outside parameterize:" args)))))

(define (make-parameter init . converter)
  (let* ((convert (if (pair? converter) (car converter) (lambda (x) x)))
         (value (convert init)))
    (%make-parameter-procedure (lambda () value) (lambda (v) (set! value v)) convert)))

(define (%parameterize params values thunk)
  (if (null? (cdr params))
      (%parameterize-one (car params) (car values) thunk)
      (%parameterize-many params values thunk)))

;; The common case, one parameter, without the lists.
(define (%parameterize-one p value thunk)
  (let ((new ((p %param-converter) value))
        (saved #f))
    (dynamic-wind
     (lambda () (set! saved (p)) (p %param-set new))
     thunk
     (lambda () (set! new (p)) (p %param-set saved)))))

(define (%parameterize-many params values thunk)
  (let ((new (map (lambda (p v) ((p %param-converter) v)) params values))
        (saved '()))
    (dynamic-wind
     (lambda ()
       (set! saved (map (lambda (p) (p)) params))
       (for-each (lambda (p v) (p %param-set v)) params new))
     thunk
     (lambda ()
       (set! new (map (lambda (p) (p)) params))
       (for-each (lambda (p v) (p %param-set v)) params saved)))))

(define-syntax parameterize
  (syntax-rules ()
    ((_ () body ...) (let () body ...))
    ((_ ((param value) ...) body ...)
     (%parameterize (list param ...) (list value ...) (lambda () body ...)))))

(define current-output-port
  (%make-parameter-procedure %current-output %set-current-output!
                             (lambda (p) (if (output-port? p) p (error "not an output port:" p)))))

(define current-error-port
  (%make-parameter-procedure %current-error %set-current-error!
                             (lambda (p) (if (output-port? p) p (error "not an output port:" p)))))

(define (call-with-output-string proc)
  (let ((port (open-output-string)))
    (proc port)
    (get-output-string port)))

(define (with-output-to-string thunk)
  (let ((port (open-output-string)))
    (parameterize ((current-output-port port)) (thunk))
    (get-output-string port)))

;;; Multiple values (R7RS 4.2.2, 5.3.3).

(define-syntax receive
  (syntax-rules ()
    ((_ formals expr body ...)
     (call-with-values (lambda () expr) (lambda formals body ...)))))

(define-syntax let*-values
  (syntax-rules ()
    ((_ () body ...) (let () body ...))
    ((_ ((formals expr) rest ...) body ...)
     (call-with-values (lambda () expr)
       (lambda formals (let*-values (rest ...) body ...))))))

;; let-values evaluates every expression outside all the new bindings.
(define-syntax let-values
  (syntax-rules ()
    ((_ (binding ...) body ...) (%let-values (binding ...) () body ...))))

(define-syntax %let-values
  (syntax-rules ()
    ((_ () ((formals tmp) ...) body ...)
     (%let-values-apply ((formals tmp) ...) body ...))
    ((_ ((formals expr) rest ...) (done ...) body ...)
     (let ((tmp (call-with-values (lambda () expr) list)))
       (%let-values (rest ...) (done ... (formals tmp)) body ...)))))

(define-syntax %let-values-apply
  (syntax-rules ()
    ((_ () body ...) (let () body ...))
    ((_ ((formals tmp) rest ...) body ...)
     (apply (lambda formals (%let-values-apply (rest ...) body ...)) tmp))))

(define-syntax define-values
  (syntax-rules ()
    ((_ (var ...) expr)
     (begin (define var #f) ...
            (%set-from-list! (var ...) (call-with-values (lambda () expr) list))))
    ((_ (var ... . rest) expr)
     (begin (define var #f) ... (define rest #f)
            (%set-from-list! (var ... . rest) (call-with-values (lambda () expr) list))))
    ((_ var expr)
     (define var (call-with-values (lambda () expr) list)))))

(define-syntax %set-from-list!
  (syntax-rules ()
    ((_ () l) (if #f #f))
    ((_ (v . more) l) (let ((x l)) (set! v (car x)) (%set-from-list! more (cdr x))))
    ((_ v l) (set! v l))))

;;; case-lambda (R7RS 4.2.9): the first clause whose parameters accept the
;;; argument count runs.

(define (%make-case-lambda . clauses)
  (lambda args
    (let ((n (length args)))
      (let loop ((cs clauses))
        (cond ((null? cs) (error "case-lambda: no clause takes this many arguments:" n))
              ((%arity-accepts? (car cs) n) (apply (car cs) args))
              (else (loop (cdr cs))))))))

(define-syntax case-lambda
  (syntax-rules ()
    ((_ (formals body ...) ...)
     (%make-case-lambda (lambda formals body ...) ...))))

;;; Records (R7RS 5.5).

(define-syntax define-record-type
  (syntax-rules ()
    ((_ type (constructor cfield ...) predicate fieldspec ...)
     (begin
       (define type (%make-record-type 'type (%record-field-names fieldspec ...)))
       (define constructor (%record-constructor type '(cfield ...)))
       (define predicate (%record-predicate type))
       (%record-accessors type fieldspec ...)))
    ((_ type #f predicate fieldspec ...)
     (begin
       (define type (%make-record-type 'type (%record-field-names fieldspec ...)))
       (define predicate (%record-predicate type))
       (%record-accessors type fieldspec ...)))))

(define-syntax %record-field-names
  (syntax-rules ()
    ((_ (field . procs) ...) '(field ...))))

(define-syntax %record-accessors
  (syntax-rules ()
    ((_ type) (begin))
    ((_ type (field accessor) more ...)
     (begin (define accessor (%record-accessor type 'field))
            (%record-accessors type more ...)))
    ((_ type (field accessor modifier) more ...)
     (begin (define accessor (%record-accessor type 'field))
            (define modifier (%record-modifier type 'field))
            (%record-accessors type more ...)))))

;;; Promises (R7RS 4.2.5), after the report's definitions: a promise is a
;;; record holding a box so that delay-force chains run in constant space.

(define-record-type %promise (%make-promise-box box) promise? (box %promise-box %set-promise-box!))

(define (%make-promise done? value) (%make-promise-box (cons done? value)))
(define (%promise-done? p) (car (%promise-box p)))
(define (%promise-value p) (cdr (%promise-box p)))
(define (%promise-update! new old)
  (set-car! (%promise-box old) (%promise-done? new))
  (set-cdr! (%promise-box old) (%promise-value new))
  (%set-promise-box! new (%promise-box old)))

(define (make-promise obj) (if (promise? obj) obj (%make-promise #t obj)))

(define (force promise)
  (if (not (promise? promise))
      promise
      (if (%promise-done? promise)
          (%promise-value promise)
          (let ((promise* ((%promise-value promise))))
            (if (not (%promise-done? promise))
                (%promise-update! (make-promise promise*) promise))
            (force promise)))))

(define-syntax delay-force
  (syntax-rules () ((_ expression) (%make-promise #f (lambda () expression)))))

(define-syntax delay
  (syntax-rules () ((_ expression) (delay-force (make-promise expression)))))
