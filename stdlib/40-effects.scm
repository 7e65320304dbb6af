;;; Effects: model calls as (effect OP PROMPT OPTION ...), effect handlers,
;;; the dynamic context (with-model, with-agent, with-workflow), and
;;; parallel-map, which keeps several calls in flight.
;;;
;;; A call travels: effect → the handlers installed with with-effect-handler,
;;; innermost first → %perform → %submit (50-budget.scm: raises a refusal
;;; continuably) → %effect-submit (Swift: count the prompt, meter, start the
;;; backend call) → %await → %after-call (trackers, threshold callbacks). Outside parallel-map %await
;;; blocks; inside, it suspends the element's fiber and lets the scheduler
;;; start or resume another one.

(define infer.op 'infer.op)
(define int.op 'int.op)
(define search.op 'search.op)

;; What int.op returns (and search.op, one per sample).
(define-record-type inference-result
  (%make-inference-result text model finish-reason input-tokens output-tokens cached-tokens
                          cost latency backend request-id simulated? usage-source reasoning-tokens)
  inference-result?
  (text result-text) (model result-model) (finish-reason result-finish-reason)
  (input-tokens result-input-tokens) (output-tokens result-output-tokens)
  (cached-tokens result-cached-tokens) (cost result-cost) (latency result-latency)
  (backend result-backend) (request-id result-request-id) (simulated? result-simulated?)
  (usage-source result-usage-source) (reasoning-tokens result-reasoning-tokens))

(define (result-total-tokens r) (+ (result-input-tokens r) (result-output-tokens r)))

;; A result made by a handler that answers a request itself (a mock, a cache).
(define (make-inference-result text . options)
  (define (opt key default) (let ((p (assq key (%effect-options options)))) (if p (cdr p) default)))
  (%make-inference-result text (opt 'model "handler") (opt 'finish-reason "stop")
                          (opt 'input-tokens 0) (opt 'output-tokens 0) (opt 'cached-tokens 0)
                          (opt 'cost 0) 0. "handler" (opt 'request-id "handler") #f 'handler 0))

;; A request as handlers see it: the operation, the prompt, and the options
;; (an association list; the first entry for a name wins).
(define-record-type effect-request
  (%make-effect-request op prompt options)
  effect-request?
  (op effect-request-op) (prompt effect-request-prompt) (options effect-request-options))

(define (effect-request-option r name . default)
  (let ((p (assq name (effect-request-options r))))
    (cond (p (cdr p)) ((pair? default) (car default)) (else #f))))
(define (effect-request-model r) (or (effect-request-option r 'model) (%default-model)))
(define (effect-request-max-tokens r) (effect-request-option r 'max-tokens))
(define (effect-request-agent r) (effect-request-option r 'agent))
(define (effect-request-workflow r) (effect-request-option r 'workflow))

;; (effect-request-with r 'model "gpt-4o-mini" 'prompt "shorter")
(define (effect-request-with r . changes)
  (let loop ((cs changes) (prompt (effect-request-prompt r)) (opts (effect-request-options r)))
    (cond ((null? cs) (%make-effect-request (effect-request-op r) prompt opts))
          ((null? (cdr cs)) (error "effect-request-with: a name without a value:" (car cs)))
          ((eq? (%option-name (car cs)) 'prompt) (loop (cddr cs) (cadr cs) opts))
          (else (loop (cddr cs) prompt (cons (cons (%option-name (car cs)) (cadr cs)) opts))))))

;; Option names may be written model or model: (keyword style): %option-name
;; (Swift, EffectLibrary) strips the colon.

;; Options as written after the prompt: one association list, or name value pairs.
(define (%effect-options rest)
  (cond ((null? rest) '())
        ((and (null? (cdr rest)) (list? (car rest)))
         (map (lambda (p)
                (if (pair? p)
                    (cons (%option-name (car p)) (cdr p))
                    (error "effect: options must be (name . value) pairs, got" p)))
              (car rest)))
        (else
         (let loop ((xs rest) (acc '()))
           (cond ((null? xs) (reverse acc))
                 ((null? (cdr xs)) (error "effect: option without a value:" (car xs)))
                 (else (loop (cddr xs) (cons (cons (%option-name (car xs)) (cadr xs)) acc))))))))

;;; The dynamic context and handlers

(define %effect-context (make-parameter '()))
(define %effect-handlers (make-parameter '()))

(define (%with-context name value thunk)
  (parameterize ((%effect-context (cons (cons name value) (%effect-context)))) (thunk)))
(define (with-model model thunk) (%with-context 'model model thunk))
(define (with-agent agent thunk) (%with-context 'agent agent thunk))
(define (with-workflow workflow thunk) (%with-context 'workflow workflow thunk))
(define (current-agent) (let ((p (assq 'agent (%effect-context)))) (and p (cdr p))))
(define (current-workflow) (let ((p (assq 'workflow (%effect-context)))) (and p (cdr p))))
(define (current-model) (let ((p (assq 'model (%effect-context)))) (if p (cdr p) (%default-model))))

;; (with-effect-handler 'infer.op (lambda (request next) ...) thunk)
;; OPS is an operation, a list of them, or #t for every operation. The
;; handler answers the request itself, or calls (next request) — with the
;; request unchanged or changed — to pass it on to the next handler out.
(define (with-effect-handler ops handler thunk)
  (unless (procedure? handler) (error "with-effect-handler: not a procedure:" handler))
  (parameterize ((%effect-handlers (cons (cons ops handler) (%effect-handlers)))) (thunk)))

(define (%handles? ops op)
  (or (eq? ops #t) (eq? ops op) (and (pair? ops) (memq op ops) #t)))

(define (effect op prompt . options)
  (unless (symbol? op) (error "effect: the operation must be a symbol, got" op))
  (%dispatch (%make-effect-request op prompt (append (%effect-options options) (%effect-context)))
             (%effect-handlers)))

(define (%dispatch request handlers)
  (let loop ((hs handlers))
    (cond ((null? hs) (%perform request))
          ((%handles? (caar hs) (effect-request-op request))
           (let ((outer (cdr hs)) (handler (cdar hs)))
             ;; The handler runs with only the outer handlers installed: an
             ;; effect it performs itself goes outward, not back to it.
             (parameterize ((%effect-handlers outer))
               (handler request
                        (lambda r
                          (let ((next (if (null? r) request (car r))))
                            (unless (effect-request? next)
                              (error "effect handler: next takes a request, got" next))
                            (%dispatch next outer)))))))
          (else (loop (cdr hs))))))

;;; Performing: what reaches the backend

(define (%perform request)
  (case (effect-request-op request)
    ((infer.op) (result-text (%call request)))
    ((int.op) (%call request))
    ((search.op) (%search request))
    (else (error "effect: no handler answers the operation" (effect-request-op request)))))

(define (%call request)
  (%await (%submit (effect-request-op request) (effect-request-prompt request)
                   (effect-request-options request))))

(define (%search request)
  (let ((n (or (effect-request-option request 'n) (%default-samples)))
        (submitted '()))
    (unless (and (exact-integer? n) (> n 0)) (error "search.op: n must be a positive integer, got" n))
    (dynamic-wind
     (lambda () #f)
     (lambda ()
       (do ((i 0 (+ i 1))) ((= i n))
         (set! submitted
               (cons (%submit 'search.op (effect-request-prompt request)
                              (cons (cons 'sample i) (effect-request-options request)))
                     submitted)))
       (let ((tickets (reverse submitted)))
         (map (lambda (t) (let ((r (%await t))) (set! submitted (delete t submitted)) r)) tickets)))
     ;; Leaving early (a budget refused a sample, an error): settle the rest.
     ;; A fiber switch inside parallel-map also leaves this extent, for a while.
     (lambda () (unless %fiber-switching (%effect-drain submitted))))))

;; The scheduler of the innermost parallel-map, or #f outside one.
(define %fiber-exit #f)
;; True while control jumps between a fiber and its scheduler: dynamic-wind
;; exits that clean up (drain calls in flight) must not run for a mere switch.
(define %fiber-switching #f)

(define (%await ticket)
  (if %fiber-exit
      (begin
        (call/cc (lambda (k) (set! %fiber-switching #t) (%fiber-exit (list 'wait ticket k))))
        (set! %fiber-switching #f))
      (%effect-wait (list ticket)))
  (let ((r (apply %make-inference-result (%effect-take ticket))))
    (%after-call r)
    r))

;;; parallel-map

;; (parallel-map proc list [max-in-flight]) applies proc to every element,
;; keeping up to max-in-flight model calls in flight at once: each element
;; runs as a fiber that pauses at its effect while the others go on. Results
;; are in list order. If elements fail, the others still finish; then an
;; error is raised naming the failures, and (parallel-map-results e) gives
;; every result, with the condition in place of each failed one.
(define (parallel-map proc lst . options)
  (let* ((limit (if (pair? options) (car options) (%default-max-in-flight)))
         (items (list->vector lst))
         (n (vector-length items))
         (results (make-vector n #f))
         (failures '())
         (waiting '())
         (next 0)
         (outer-exit %fiber-exit))
    (unless (procedure? proc) (error "parallel-map: not a procedure:" proc))
    (unless (and (exact-integer? limit) (> limit 0))
      (error "parallel-map: max-in-flight must be a positive integer, got" limit))
    (define (note! message)
      (set! %fiber-switching #f)
      (when (pair? message)
        (set! waiting (append waiting (list (cons (cadr message) (caddr message)))))))
    (define (start! i)
      (note! (call/cc
              (lambda (scheduler)
                (set! %fiber-exit scheduler)
                (vector-set! results i
                             (guard (e (#t (set! failures (cons (cons i e) failures)) e))
                               (proc (vector-ref items i))))
                (%fiber-exit 'done)))))
    (define (resume! k)
      (note! (call/cc (lambda (scheduler) (set! %fiber-exit scheduler) (set! %fiber-switching #t) (k #t)))))
    (dynamic-wind
     (lambda () #f)
     (lambda ()
       (let loop ()
         (cond ((and (< next n) (< (length waiting) limit))
                (let ((i next))
                  (set! next (+ i 1))
                  (start! i))
                (loop))
               ((pair? waiting)
                (let* ((t (%effect-wait (map car waiting)))
                       (entry (assv t waiting)))
                  (set! waiting (delete entry waiting eq?))
                  (resume! (cdr entry))
                  (loop))))))
     (lambda ()
       (set! %fiber-exit outer-exit)
       ;; Left early (interrupted): cancel and settle the calls still in flight.
       (when (pair? waiting)
         (%effect-drain (map car waiting))
         (set! waiting '()))))
    (if (null? failures)
        (vector->list results)
        (let* ((sorted (sort failures (lambda (a b) (< (car a) (car b)))))
               (first (car sorted))
               (e (guard (c (#t c))
                    (error (string-append
                            "parallel-map: " (number->string (length sorted)) " of " (number->string n)
                            " elements failed; element " (number->string (car first)) ": "
                            (if (error-object? (cdr first))
                                (error-object-message (cdr first))
                                (call-with-output-string (lambda (p) (write (cdr first) p)))))))))
          (%error-object-payload-set! e (vector->list results))
          (raise e)))))

(define (parallel-map-results e)
  (let ((p (and (error-object? e) (%error-object-payload e))))
    (if (list? p) p (error "parallel-map-results: not a parallel-map error:" e))))

(define (effect-error-kind e)
  (and (effect-error? e) (pair? (error-object-irritants e)) (car (error-object-irritants e))))
