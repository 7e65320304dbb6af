;; The meter through Scheme (issue 6): scopes, refusals, approvals,
;; degradation, queries, tracking, thresholds.

(define (refusal thunk) (guard (e ((budget-exceeded? e) e)) (thunk) #f))
(define (contains? s part) (and (string-contains s part) #t))
(define (tokens-of prompt model) (count-tokens (list (cons 'user prompt)) model))

;; with-budget returns the thunk's value; a call that fits is made.
(test #t (string? (with-budget 2000 (lambda () (effect infer.op "hello there" 'max-tokens 100)))))
(test 42 (with-budget 10 (lambda () 42)))

;; The worst case (prompt + max-tokens) is reserved before sending: a call
;; that might not fit is refused, and nothing is charged.
(define c (refusal (lambda () (with-budget 50 (lambda () (effect infer.op "hello there" 'max-tokens 100))))))
(test #t (budget-exceeded? c))
(test #t (error-object? c))
(test 50 (budget-exceeded-limit c))
(test 0 (budget-exceeded-used c))
(test (+ 100 (tokens-of "hello there" "gpt-4o-mini")) (budget-exceeded-requested c))
(test 'tokens (budget-exceeded-unit c))
(test 'scope (budget-exceeded-kind c))
(test "gpt-4o-mini" (budget-exceeded-model c))
(test #t (string? (budget-exceeded-scope c)))
(test #t (contains? (error-object-message c) "would exceed its limit of 50 tokens (current: 0, requested: "))

;; Nested scopes: the inner call charges the outer scope too, and the
;; outer limit refuses even when the inner one has room.
(test #t (with-budget 1000
           (lambda ()
             (with-budget 100000 (lambda () (effect infer.op "a" 'max-tokens 300)))
             (let ((spent (budget-spent)))
               (and (> spent 0)
                    (budget-exceeded? (refusal (lambda () (with-budget 100000 (lambda () (effect infer.op "b" 'max-tokens 990)))))))))))
(test #t (with-budget 1000
           (lambda ()
             (let ((before (budget-remaining)))
               (with-budget 500 (lambda () (effect infer.op "a" 'max-tokens 50)))
               (< (budget-remaining) before)))))

;; Continuable: a handler may add tokens (the call then goes through) ...
(test #t (string? (with-exception-handler
                   (lambda (c) (if (budget-exceeded? c) 500 (raise c)))
                   (lambda () (with-budget 50 (lambda () (effect infer.op "hello" 'max-tokens 100)))))))
;; ... or approve this one call with #t ...
(test #t (with-budget 50
           (lambda ()
             (let ((r (with-exception-handler (lambda (c) #t) (lambda () (effect int.op "hello" 'max-tokens 100)))))
               (and (inference-result? r) (> (budget-spent) 50))))))
;; (Declining stops the run: tested from the command line, exit status 3.)
;; After the extension the scope really has the larger limit.
(test #t (with-budget 50
           (lambda ()
             (with-exception-handler (lambda (c) 1000) (lambda () (effect infer.op "x" 'max-tokens 100)))
             (let ((s (car (budget-status)))) (= 1050 (cdr (assq 'limit s)))))))

;; Budgets in several units: calls, money.
(test #t (budget-exceeded?
          (refusal (lambda ()
                     (with-budget (budget 'calls 2)
                       (lambda () (effect infer.op "1" 'max-tokens 5) (effect infer.op "2" 'max-tokens 5) (effect infer.op "3" 'max-tokens 5)))))))
(test 'calls (budget-exceeded-unit
              (refusal (lambda () (with-budget (budget 'calls 0) (lambda () (effect infer.op "1" 'max-tokens 5)))))))
(define money (refusal (lambda () (with-budget (budget 'usd 1/1000000) (lambda () (effect infer.op "1" 'model "gpt-4o" 'max-tokens 50))))))
(test 'usd (budget-exceeded-unit money))
(test 1/1000000 (budget-exceeded-limit money))
(test (estimate-cost "gpt-4o" (tokens-of "1" "gpt-4o") 50) (budget-exceeded-requested money))
(test #t (contains? (error-object-message money) "limit of $0.000001"))
;; An unpriced model under a money budget is an error, not a free call.
(test #t (guard (e ((error-object? e) (contains? (error-object-message e) "no price for model mystery-model")))
           (with-budget (budget 'usd 1) (lambda () (effect infer.op "x" 'model "mystery-model")))))
;; Time: a scope whose seconds are used up refuses the next call.
(test 'seconds (budget-exceeded-unit
                (refusal (lambda () (with-budget (budget 'seconds 0) (lambda () (effect infer.op "1" 'max-tokens 5)))))))
(test #t (string? (with-budget (budget 'seconds 60 'tokens 500) (lambda () (effect infer.op "1" 'max-tokens 5)))))

;; Per agent and per workflow limits.
(set-budget! 'agent "code-reviewer" 300)
(define agent-refusal
  (refusal (lambda () (with-agent "code-reviewer"
                        (lambda () (effect infer.op "review" 'max-tokens 200) (effect infer.op "again" 'max-tokens 200))))))
(test 'agent (budget-exceeded-kind agent-refusal))
(test "code-reviewer" (budget-exceeded-agent agent-refusal))
(test #t (contains? (error-object-message agent-refusal) "agent code-reviewer would exceed its limit of 300 tokens (current: "))
(set-budget! 'agent "code-reviewer" #f)
(test #t (string? (with-agent "code-reviewer" (lambda () (effect infer.op "review" 'max-tokens 200)))))
(set-budget! 'workflow 'nightly (budget 'calls 1))
(test 'workflow (budget-exceeded-kind
                 (refusal (lambda () (with-workflow 'nightly (lambda () (effect infer.op "a" 'max-tokens 5) (effect infer.op "b" 'max-tokens 5)))))))
(set-budget! 'model "gpt-4o" 10)
(test 'model (budget-exceeded-kind (refusal (lambda () (effect infer.op "a" 'model "gpt-4o" 'max-tokens 50)))))
(set-budget! 'model "gpt-4o" #f)

;; Shared budgets: charged by every call inside, whatever the agent; nested ones all apply.
(test '() (current-shared-budgets))
(test '("inner" "team") (with-shared-budget "team" (lambda () (with-shared-budget "inner" (lambda () (current-shared-budgets))))))
(test '("team") (with-shared-budget "team" (lambda () (with-shared-budget "team" (lambda () (current-shared-budgets))))))
(test-error (with-shared-budget "" (lambda () 1)))
(test-error (with-shared-budget 'team (lambda () 1)))
(set-budget! 'shared "team" 100)
(define shared-refusal
  (refusal (lambda ()
             (with-agent "a" (lambda () (with-shared-budget "team" (lambda () (effect infer.op "one" 'max-tokens 40)))))
             (with-agent "b" (lambda () (with-shared-budget "team" (lambda () (effect infer.op "two" 'max-tokens 95))))))))
(test 'shared (budget-exceeded-kind shared-refusal))
(test #t (contains? (error-object-message shared-refusal) "shared budget team would exceed its limit of 100 tokens"))
(test #t (pair? (assoc "team" (budget-usage-by 'shared))))
(test #t (<= (cdr (assq 'used (car (with-shared-budget "team" (lambda () (budget-status)))))) 100))
;; Outside it, the shared budget does not apply.
(test #t (string? (effect infer.op "three" 'max-tokens 50)))
(set-budget! 'shared "team" #f)

;; Concurrent calls never overspend: 30 fibers, random sizes, tight budget.
(define settled 0)
(test #t (with-budget 2000
           (lambda ()
             (with-tracking (lambda (tokens) (set! settled (+ settled tokens)))
               (lambda ()
                 (guard (e (#t #t))
                   (parallel-map (lambda (i) (effect infer.op (number->string i) 'max-tokens (+ 20 (* 7 (modulo (* i 13) 29)))))
                                 (iota 30) 8))
                 (and (<= (budget-spent) 2000) (= settled (budget-spent))))))))

;; A cut stream is charged what the provider bills (prompt + tokens
;; received); a call that failed outright is released.
(test #t (with-budget 1000
           (lambda ()
             (guard (e (#t #t)) (effect infer.op "cut" 'max-tokens 100 'simulate-fault "cut-stream"))
             (and (> (budget-spent) 0) (= 1 (budget-spent 'calls))))))
(test #t (with-budget 1000
           (lambda ()
             (guard (e (#t #t)) (effect infer.op "x" 'max-tokens 100 'simulate-fault "server-error"))
             (and (= 0 (budget-spent)) (= 1000 (budget-remaining))))))

;; Queries.
(test +inf.0 (budget-remaining 'calls))
(test #t (with-budget (budget 'tokens 1000 'calls 5)
           (lambda ()
             (effect infer.op "q" 'max-tokens 10)
             (and (= 4 (budget-remaining 'calls)) (= 1 (budget-spent 'calls))
                  (= (- 1000 (budget-spent)) (budget-remaining))))))
(test #t (let ((s (with-budget 1000 (lambda () (effect infer.op "q" 'max-tokens 10) (car (budget-status))))))
           (and (eq? 'scope (cdr (assq 'kind s))) (= 1000 (cdr (assq 'limit s))) (eq? 'normal (cdr (assq 'level s)))
                (= (cdr (assq 'remaining s)) (- 1000 (cdr (assq 'used s)))))))
(test #t (let ((m (assoc "gpt-4o-mini" (budget-usage-by 'model)))) (and m (> (cdr (assq 'calls (cdr m))) 0))))
(test #t (pair? (assoc "infer.op" (budget-usage-by 'operation))))

;; with-tracking: a one-argument procedure gets each settled call's tokens
;; (the manual's track-spend); a two-argument one also gets its result record.
(define tracked '())
(define tracked-tokens 0)
(with-tracking (lambda (tokens r) (set! tracked (cons r tracked)))
  (lambda ()
    (with-tracking (lambda (tokens) (set! tracked-tokens (+ tracked-tokens tokens)))
      (lambda () (effect infer.op "t1" 'max-tokens 5) (effect infer.op "t2" 'max-tokens 5)))))
(test 2 (length tracked))
(test #t (inference-result? (car tracked)))
(test (apply + (map result-total-tokens tracked)) tracked-tokens)

;; Thresholds: a callback runs once when a scope first reaches its percentage.
(define crossings '())
(on-budget-threshold 50 (lambda (status) (set! crossings (cons (cdr (assq 'percent status)) crossings))))
(with-budget 400 (lambda () (effect infer.op "x" 'max-tokens 150) (effect infer.op "y" 'max-tokens 150) (effect infer.op "z" 'max-tokens 50)))
(test 1 (length crossings))
(test #t (>= (car crossings) 50))

;; Degradation: past 50% calls switch to a cheaper model, past 80% max-tokens drops.
(define first-call #f)
(define after-half #f)
(define after-80 #f)
(with-budget (budget 'tokens 4000 'degrade '((50 model "gpt-4o-mini" "gpt-4o") (80 max-tokens 20)))
  (lambda ()
    (set! first-call (effect int.op "first" 'model "gpt-4o" 'max-tokens 300))
    (let loop ((i 0))
      (when (< (budget-spent) 2000)
        (effect infer.op (number->string i) 'model "gpt-4o" 'max-tokens 300)
        (loop (+ i 1))))
    (set! after-half (effect int.op "after" 'model "gpt-4o" 'max-tokens 300))
    (let loop ((i 0))
      (when (< (budget-spent) 3200)
        (effect infer.op (number->string i) 'model "gpt-4o-mini" 'max-tokens 300)
        (loop (+ i 1))))
    (set! after-80 (effect int.op "after 80" 'model "gpt-4o" 'max-tokens 300))))
(test "gpt-4o" (result-model first-call))
(test "gpt-4o-mini" (result-model after-half))
(test #t (<= (result-output-tokens after-80) 20))
(test #t (budget-deferred?
          (guard (e (#t e))
            (with-budget (budget 'tokens 100 'degrade '((1 defer)))
              (lambda () (effect infer.op "a" 'max-tokens 10) (effect infer.op "b" 'max-tokens 10))))))
(test-error (with-budget (budget 'tokens 10 'degrade '((50 teleport))) (lambda () 1)))

;; The cache: an identical request is answered again at no cost.
(enable-caching!)
(define first-answer (effect int.op "cache me" 'max-tokens 30))
(define second-answer (effect int.op "cache me" 'max-tokens 30))
(disable-caching!)
(test (result-text first-answer) (result-text second-answer))
(test "cache" (result-backend second-answer))
(test 0 (result-cost second-answer))

;; Checkpoints: the budget state serialises to JSON.
(test #t (contains? (budget-state) "\"run\""))
(test-error (budget-restore! "not json"))

;; Bad specs are errors that say so.
(test-error (with-budget 'lots (lambda () 1)))
(test-error (with-budget (budget 'furlongs 3) (lambda () 1)))
(test-error (with-budget (budget 'tokens -5) (lambda () 1)))
(test-error (budget 'tokens))
(test-error (set-budget! 'galaxy "x" 10))

;; Huge numbers refuse or saturate; they never overflow.
(test-error (effect infer.op "x" 'max-tokens 4611686018427387903))
(test #t (budget-exceeded? (guard (e (#t e)) (with-budget 1000 (lambda () (effect infer.op "x" 'max-tokens 10000000))))))
(test #t (with-exception-handler (lambda (c) 4611686018427387903)
           (lambda () (with-budget 10 (lambda () (string? (effect infer.op "x" 'max-tokens 5)))))))

;; Refusals inside parallel-map are refusals: a guard around it catches a
;; budget-exceeded condition; a handler around it answers for every element.
(test #t (guard (e (#t (budget-exceeded? e)))
           (with-budget 1500 (lambda () (parallel-map (lambda (i) (effect infer.op "hi" 'max-tokens 500)) (iota 8))))))
(test 8 (with-exception-handler (lambda (c) #t)
          (lambda () (with-budget 1500 (lambda () (length (parallel-map (lambda (i) (effect infer.op "hi" 'max-tokens 500)) (iota 8))))))))
(define asked 0)
(test 10 (with-exception-handler (lambda (c) (set! asked (+ asked 1)) (if (budget-exceeded? c) 1000 #f))
           (lambda () (with-budget 200 (lambda () (length (parallel-map (lambda (i) (effect infer.op (list "x" i) 'max-tokens 50)) (iota 10) 5)))))))
(test #t (> asked 0))
;; A refusal caught inside an element leaves the others running.
(test '(refused refused refused refused)
      (parallel-map (lambda (i)
                      (guard (e ((budget-exceeded? e) 'refused))
                        (with-budget 100
                          (lambda ()
                            (parallel-map (lambda (j) (effect infer.op (list "q" i j) 'max-tokens 60 'simulate-latency 0.05)) '(1 2 3) 3)))))
                    (iota 4) 4))
