;;; Budgets: with-budget scopes, budget specs, the budget-exceeded
;;; condition, queries, tracking and threshold callbacks. The meter itself
;;; (reserve, settle, the ledger) is Swift: Sources/OmegaModels/Meter.
;;;
;;; 40-effects.scm sends every call through %submit and %after-call below.

;; (budget 'tokens 10000 'usd 0.50 'calls 20 'seconds 60) → a spec for with-budget.
(define (budget . args)
  (let loop ((xs args) (acc '()))
    (cond ((null? xs) (reverse acc))
          ((null? (cdr xs)) (error "budget: a unit without an amount:" (car xs)))
          (else (loop (cddr xs) (cons (cons (%option-name (car xs)) (cadr xs)) acc))))))

;; (with-budget LIMIT THUNK [LABEL]): LIMIT is a token count or a (budget …)
;; spec; without LABEL the scope is named by where it was opened. Every call made while THUNK runs is charged to this scope and to
;; every enclosing one; a call that would go past a limit is refused before
;; it is sent, with a continuable budget-exceeded condition.
(define (with-budget limit thunk . label)
  (unless (procedure? thunk) (error "with-budget: not a procedure:" thunk))
  (let ((id (%budget-open limit (if (pair? label) (car label) "") (%call-site))))
    (dynamic-wind
     ;; A continuation that jumps back in puts the scope back in force.
     (lambda () (%budget-reopen id))
     (lambda () (%with-context 'budget-scope id thunk))
     ;; A fiber switch inside parallel-map also leaves this extent, for a while.
     (lambda () (unless %fiber-switching (%budget-close id))))))

;; The with-budget scopes in force, innermost first.
(define (%budget-scope-ids)
  (let loop ((c (%effect-context)) (acc '()))
    (cond ((null? c) (reverse acc))
          ((eq? (caar c) 'budget-scope) (loop (cdr c) (cons (cdar c) acc)))
          (else (loop (cdr c) acc)))))

;;; Conditions

(define (budget-exceeded? x) (eq? (%budget-condition-kind x) 'exceeded))
(define (budget-deferred? x) (eq? (%budget-condition-kind x) 'deferred))
(define (budget-condition? x) (and (%budget-condition-kind x) #t))

(define (%budget-field c key)
  (unless (budget-condition? c) (error "not a budget condition:" c))
  (let ((p (assq key (%error-object-payload c)))) (and p (cdr p))))
(define (budget-exceeded-scope c) (%budget-field c 'scope))
(define (budget-exceeded-kind c) (%budget-field c 'kind))
(define (budget-exceeded-name c) (%budget-field c 'name))
(define (budget-exceeded-unit c) (%budget-field c 'unit))
(define (budget-exceeded-limit c) (%budget-field c 'limit))
(define (budget-exceeded-used c) (%budget-field c 'used))
(define (budget-exceeded-reserved c) (%budget-field c 'reserved))
(define (budget-exceeded-requested c) (%budget-field c 'requested))
(define (budget-exceeded-model c) (%budget-field c 'model))
(define (budget-exceeded-agent c) (%budget-field c 'agent))
(define (budget-exceeded-workflow c) (%budget-field c 'workflow))
(define (budget-exceeded-level c) (%budget-field c 'level))
;; Everything above as an association list, for a handler or a log.
(define (budget-condition-fields c) (%budget-field c 'condition) (%error-object-payload c))

;; Starts a call; a refusal is raised continuably. The handler's answer:
;; a positive number adds that much to the refused scope's limit (in its
;; unit) and tries again; #t lets this one call through; anything else
;; declines, and the run stops (exit status 3; no handler can catch a stop).
;; With no handler at all the condition is uncaught: the same stop.
(define (%submit op prompt options site . approved)
  (let ((t (%effect-submit op prompt options site (and (pair? approved) (car approved)))))
    (cond ((exact-integer? t) t)
          ((budget-exceeded? t)
           ;; With no handler of its own the program asks its host (the
           ;; REPL asks its user); a host that extended the limit says retry.
           (let ((answer (%ask-about-refusal t)))
             (cond ((eq? answer #t) (%submit op prompt options site #t))
                   ((eq? answer 'retry) (%submit op prompt options site))
                   ((and (real? answer) (> answer 0))
                    (%budget-extend! t answer)
                    (%submit op prompt options site))
                   (else (%budget-stop t)))))
          (else (raise t)))))

;; Who decides about a refusal: the handlers in force, else the host (the
;; REPL asks its user), else nobody — raised uncaught, it stops the run.
(define (%ask-about-refusal c)
  (if (and (null? (%current-handlers)) (%host-approver?))
      (%host-approve c)
      (raise-continuable c)))

;;; Queries

(define (%budget-query* what unit)
  (%budget-query what unit (%budget-scope-ids) (current-model) (current-agent) (current-workflow)
                 (current-shared-budgets)))

;; How much more can be spent now (the least any scope in force has left);
;; +inf.0 when nothing limits the unit. Default unit: total tokens.
(define (budget-remaining . unit) (%budget-query* 'remaining (if (pair? unit) (car unit) 'tokens)))
;; What the innermost with-budget scope (else the run) has spent.
(define (budget-spent . unit) (%budget-query* 'spent (if (pair? unit) (car unit) 'tokens)))
;; One association list per scope in force and limited unit: scope, kind,
;; name, unit, limit, used, reserved, remaining, percent, level.
(define (budget-status) (%budget-query* 'status 'tokens))

;;; Tracking and thresholds

(define %trackers (make-parameter '()))

;; (with-tracking PROC THUNK): PROC gets the tokens of every call that
;; settles while THUNK runs — (track-spend tokens), as in the manual — and,
;; when it takes two arguments, the call's result record too
;; (result-model, result-cost, …): (lambda (tokens result) …).
(define (with-tracking proc thunk)
  (unless (procedure? proc) (error "with-tracking: not a procedure:" proc))
  (let ((tracker (if (%accepts? proc 2)
                     (lambda (r) (proc (result-total-tokens r) r))
                     (lambda (r) (proc (result-total-tokens r))))))
    (parameterize ((%trackers (cons tracker (%trackers)))) (thunk))))

(define %threshold-callbacks '())

;; (on-budget-threshold 80 (lambda (status) …)): called once per scope and
;; unit when its use first reaches 80% of its limit; status is as in
;; budget-status. Runs after the call that crossed it settles.
(define (on-budget-threshold percent proc)
  (unless (procedure? proc) (error "on-budget-threshold: not a procedure:" proc))
  (%budget-watch! percent)
  (set! %threshold-callbacks (append %threshold-callbacks (list (cons percent proc)))))

(define (%after-call result)
  (for-each (lambda (p) (p result)) (%trackers))
  (let ((events (%budget-events)))
    (unless (null? events)
      (for-each (lambda (ev)
                  (for-each (lambda (cb) (when (= (car cb) (car ev)) ((cdr cb) (cdr ev))))
                            %threshold-callbacks))
                events))))
