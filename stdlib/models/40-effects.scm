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
;; (an association list; the first entry for a name wins). The site is where
;; the program performed it, for errors.
(define-record-type effect-request
  (%make-effect-request op prompt options site)
  effect-request?
  (op effect-request-op) (prompt effect-request-prompt) (options effect-request-options)
  (site %effect-request-site))

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
    (cond ((null? cs) (%make-effect-request (effect-request-op r) prompt opts (%effect-request-site r)))
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
;; (with-shared-budget "team-research" thunk): every call inside is also
;; charged to the shared budget of that name, whatever its agent or
;; workflow, in every process and on every host using the same ledger.
;; Nested shared budgets all apply. Limits come from [budget.shared] or
;; omega tokens budget --shared NAME N.
(define (with-shared-budget name thunk)
  (unless (and (string? name) (positive? (string-length name)))
    (error "with-shared-budget: expected a non-empty string as the budget's name, got" name))
  (unless (procedure? thunk) (error "with-shared-budget: not a procedure:" thunk))
  (%with-context 'shared-budget name thunk))
;; The shared budgets calls are charged to here, innermost first.
(define (current-shared-budgets)
  (let loop ((c (%effect-context)) (acc '()))
    (cond ((null? c) (reverse acc))
          ((and (eq? (caar c) 'shared-budget) (not (member (cdar c) acc))) (loop (cdr c) (cons (cdar c) acc)))
          (else (loop (cdr c) acc)))))
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
  (let ((site (%call-site)))
    (unless (symbol? op) (error "effect: the operation must be a symbol, got" op))
    (%dispatch (%make-effect-request op prompt (append (%effect-options options) (%effect-context)) site)
               (%effect-handlers))))

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
                   (effect-request-options request) (%effect-request-site request))))

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
                              (cons (cons 'sample i) (effect-request-options request))
                              (%effect-request-site request))
                     submitted)))
       (let ((tickets (reverse submitted)))
         (map (lambda (t) (let ((r (%await t))) (set! submitted (delete t submitted)) r)) tickets)))
     ;; Leaving early (a budget refused a sample, an error): settle the rest.
     ;; A fiber switch inside parallel-map also leaves this extent, for a while.
     (lambda () (unless %fiber-switching (%drain-calls submitted))))))

;; Cancels and settles calls left behind (a scope left early); answers that
;; had arrived were charged, so trackers still hear of them.
(define (%drain-calls tickets)
  (for-each (lambda (fields) (%after-call (apply %make-inference-result fields)))
            (%effect-drain tickets)))

;;; Fibers: one scheduler for every parallel-map
;;;
;;; Each element of a parallel-map runs as a fiber: it pauses at its model
;;; call (%await) and the scheduler starts or resumes another. There is one
;;; scheduler, run by the outermost parallel-map: a parallel-map inside an
;;; element adds its elements to it (a group) and pauses its own fiber until
;;; the group is done, so every level runs concurrently up to its limit.
;;; An element of a nested group starts in the dynamic context of its
;;; parallel-map call (its budgets, handlers, parameters) by re-entering the
;;; group's home continuation. All mutable state lives in records: a
;;; re-entered continuation must see it as it is, not as it was.

;; The scheduler's continuation the running fiber returns to, or #f outside
;; any parallel-map.
(define %fiber-exit #f)
;; True while control jumps between a fiber and the scheduler: dynamic-wind
;; exits that clean up (drain calls in flight, close a budget scope) must not
;; run for a mere switch.
(define %fiber-switching #f)
;; The scheduler of the running parallel-maps, or #f.
(define %scheduler #f)
;; The group of the running fiber.
(define %fiber-group #f)

(define-record-type %group
  (%make-group proc items results failures next active limit home parent abandoned)
  %group?
  (proc %group-proc) (items %group-items) (results %group-results)
  (failures %group-failures %group-failures-set!)
  (next %group-next %group-next-set!)            ; the next element to start
  (active %group-active %group-active-set!)      ; elements started and not finished
  (limit %group-limit)
  (home %group-home %group-home-set!)            ; continuation into a nested call, #f for the outermost
  (parent %group-parent)                         ; the group of the fiber that called it
  (abandoned %group-abandoned? %group-abandoned-set!))

(define-record-type %sched
  (%make-sched groups ready waiting)
  %sched?
  (groups %sched-groups %sched-groups-set!)      ; groups with elements still to start
  (ready %sched-ready %sched-ready-set!)         ; ((continuation message . group) …) to resume
  (waiting %sched-waiting %sched-waiting-set!))  ; ((ticket continuation . group) …)

(define (%group-size g) (vector-length (%group-items g)))
(define (%group-done? g) (and (= (%group-next g) (%group-size g)) (= (%group-active g) 0)))
(define (%group-dead? g)
  (and g (or (%group-abandoned? g) (%group-dead? (%group-parent g)))))

(define (%await ticket)
  (if %fiber-exit
      (begin
        (call/cc (lambda (k) (set! %fiber-switching #t) (%fiber-exit (list 'wait ticket k))))
        (set! %fiber-switching #f))
      (%effect-wait (list ticket)))
  (let ((r (apply %make-inference-result (%effect-take ticket))))
    (%after-call r)
    r))

;; What a fiber says when it hands control back to the scheduler.
(define (%fiber-message! sched group message)
  (set! %fiber-switching #f)
  (when (and (pair? message) (eq? (car message) 'wait))
    (%sched-waiting-set! sched (append (%sched-waiting sched)
                                       (list (cons (cadr message) (cons (caddr message) group)))))))

;; Jumps into a fiber's continuation K with MESSAGE; returns when the fiber
;; pauses or ends.
(define (%switch-to! sched group k message)
  (%fiber-message! sched group
                   (call/cc (lambda (scheduler)
                              (set! %fiber-exit scheduler)
                              (set! %fiber-group group)
                              (set! %fiber-switching #t)
                              (k message)))))

;; Runs element I of G to its end, then returns to the scheduler.
(define (%run-element g i)
  (let ((outcome
         (call/cc
          (lambda (fail)
            (with-exception-handler
             (lambda (c)
               ;; A refusal is asked about as a sequential call's would be:
               ;; the handlers around parallel-map, else the host, else it
               ;; stops the run. Any other error fails this element only.
               (if (budget-exceeded? c)
                   (%ask-about-refusal c)
                   (fail (cons 'failed c))))
             (lambda () (cons 'ok ((%group-proc g) (vector-ref (%group-items g) i)))))))))
    (vector-set! (%group-results g) i (cdr outcome))
    (when (eq? (car outcome) 'failed)
      (%group-failures-set! g (cons (cons i (cdr outcome)) (%group-failures g))))
    (%group-active-set! g (- (%group-active g) 1))
    (when (and (%group-home g) (%group-done? g) %scheduler)
      ;; The nested parallel-map waiting for this group goes on.
      (%sched-ready-set! %scheduler (append (%sched-ready %scheduler)
                                            (list (cons (%group-home g) (cons 'done (%group-parent g)))))))
    (set! %fiber-switching #t)
    (%fiber-exit 'done)))

;; Starts the next element of G.
(define (%start-element! sched g)
  (let ((i (%group-next g)))
    (%group-next-set! g (+ i 1))
    (%group-active-set! g (+ (%group-active g) 1))
    (when (= (+ i 1) (%group-size g))
      (%sched-groups-set! sched (delete g (%sched-groups sched) eq?)))
    (if (%group-home g)
        (%switch-to! sched g (%group-home g) (list 'start i))
        ;; The outermost group's elements start right here, in its call's context.
        (%fiber-message! sched g
                         (call/cc (lambda (scheduler)
                                    (set! %fiber-exit scheduler)
                                    (set! %fiber-group g)
                                    (%run-element g i)))))))

;; Forgets fibers of groups whose parallel-map was left (an escape), and
;; cancels their calls.
(define (%drop-dead-fibers! sched)
  (let ((dead (filter (lambda (w) (%group-dead? (cddr w))) (%sched-waiting sched))))
    (unless (null? dead)
      (%sched-waiting-set! sched (filter (lambda (w) (not (%group-dead? (cddr w)))) (%sched-waiting sched)))
      (%drain-calls (map car dead))))
  (%sched-ready-set! sched (filter (lambda (r) (not (%group-dead? (cddr r)))) (%sched-ready sched)))
  (%sched-groups-set! sched (filter (lambda (g) (not (%group-dead? g))) (%sched-groups sched))))

;; Runs fibers until the outermost group ROOT is done.
(define (%schedule sched root)
  (let loop ()
    (%drop-dead-fibers! sched)
    (cond ((%group-done? root) 'done)
          ((pair? (%sched-ready sched))
           (let ((r (car (%sched-ready sched))))
             (%sched-ready-set! sched (cdr (%sched-ready sched)))
             (%switch-to! sched (cddr r) (car r) (cadr r))
             (loop)))
          ((find (lambda (g) (and (< (%group-next g) (%group-size g)) (< (%group-active g) (%group-limit g))))
                 (%sched-groups sched))
           => (lambda (g) (%start-element! sched g) (loop)))
          ((pair? (%sched-waiting sched))
           (let* ((t (%effect-wait (map car (%sched-waiting sched))))
                  (w (assv t (%sched-waiting sched))))
             (%sched-waiting-set! sched (delete w (%sched-waiting sched) eq?))
             (%switch-to! sched (cddr w) (cadr w) #t)
             (loop)))
          (else (error "parallel-map: internal error: fibers wait for nothing")))))

;; A parallel-map inside a fiber: hands its group to the scheduler and
;; pauses until the group is done. Its home continuation is re-entered to
;; start each element in this call's dynamic context.
(define (%join-group g)
  (let ((message (call/cc (lambda (home)
                            (%group-home-set! g home)
                            (%sched-groups-set! %scheduler (append (%sched-groups %scheduler) (list g)))
                            (set! %fiber-switching #t)
                            (%fiber-exit (list 'join))))))
    (set! %fiber-switching #f)
    (when (and (pair? message) (eq? (car message) 'start))
      (%run-element g (cadr message)))))

;;; parallel-map

;; (parallel-map proc list [max-in-flight]) applies proc to every element,
;; keeping up to max-in-flight elements (and so their model calls) in flight
;; at once: each element runs as a fiber that pauses at its effect while the
;; others go on. Results are in list order. If elements fail, the others
;; still finish; then an error is raised naming the failures, and
;; (parallel-map-results e) gives every result, with the condition in place
;; of each failed one. A budget refusal inside an element is asked about as
;; in a sequential call: handlers around parallel-map answer it, and
;; uncaught it stops the run.
(define (parallel-map proc lst . options)
  (let ((site (%call-site))
        (limit (if (pair? options) (car options) (%default-max-in-flight))))
    (unless (procedure? proc) (error "parallel-map: not a procedure:" proc))
    (unless (list? lst) (error "parallel-map: not a list:" lst))
    (unless (and (exact-integer? limit) (> limit 0))
      (error "parallel-map: max-in-flight must be a positive integer, got" limit))
    (let* ((items (list->vector lst))
           (g (%make-group proc items (make-vector (vector-length items) #f) '() 0 0 limit #f
                           (and %fiber-exit %fiber-group) #f)))
      (cond ((= (vector-length items) 0) '())
            ((and %scheduler %fiber-exit)
             (dynamic-wind
              (lambda () #f)
              (lambda () (%join-group g))
              ;; Left for good before the group was done (an escape): its
              ;; fibers are dropped and their calls cancelled.
              (lambda () (unless (or %fiber-switching (%group-done? g)) (%group-abandoned-set! g #t))))
             (%parallel-map-result g site))
            (else
             (let ((sched (%make-sched (list g) '() '())))
               (dynamic-wind
                (lambda () (set! %scheduler sched))
                (lambda () (%schedule sched g))
                (lambda ()
                  (set! %scheduler #f)
                  (set! %fiber-exit #f)
                  (set! %fiber-group #f)
                  ;; Left early (interrupted, or an escape): cancel and
                  ;; settle the calls still in flight.
                  (let ((tickets (map car (%sched-waiting sched))))
                    (%sched-waiting-set! sched '())
                    (unless (null? tickets) (%drain-calls tickets)))))
               (%parallel-map-result g site)))))))

(define (%parallel-map-result g site)
  (let ((failures (%group-failures g))
        (n (%group-size g)))
    (if (null? failures)
        (vector->list (%group-results g))
        (let* ((sorted (sort failures (lambda (a b) (< (car a) (car b)))))
               (first (car sorted))
               (e (guard (c (#t c))
                    (error (string-append
                            "parallel-map: " (number->string (length sorted)) " of " (number->string n)
                            " elements failed; element " (number->string (car first)) ": "
                            (%error-text (cdr first)))))))
          (%error-object-payload-set! e (vector->list (%group-results g)))
          (%error-object-locate! e site)
          (raise e)))))

;; An error as the top level prints it: the message and its irritants
;; (native errors already carry theirs in the message).
(define (%error-text e)
  (define (written x) (call-with-output-string (lambda (p) (write x p))))
  (if (error-object? e)
      (let* ((m (error-object-message e))
             (irritants (error-object-irritants e))
             (shown (map written irritants)))
        (if (or (null? irritants)
                (let ((last (list-ref shown (- (length shown) 1))))
                  (and (>= (string-length m) (string-length last))
                       (string=? last (substring m (- (string-length m) (string-length last)) (string-length m))))))
            m
            (apply string-append m (map (lambda (s) (string-append " " s)) shown))))
      (written e)))

(define (parallel-map-results e)
  (let ((p (and (error-object? e) (%error-object-payload e))))
    (if (list? p) p (error "parallel-map-results: not a parallel-map error:" e))))

(define (effect-error-kind e)
  (and (effect-error? e) (pair? (error-object-irritants e)) (car (error-object-irritants e))))
