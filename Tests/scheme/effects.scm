;; Effects through the offline simulator (issue 5).

;; infer.op → text; the same request gives the same answer.
(test #t (string? (effect infer.op "Say hello" 'max-tokens 20)))
(test (effect infer.op "Say hello" 'max-tokens 20) (effect infer.op "Say hello" 'max-tokens 20))
(test #f (equal? (effect infer.op "Say hello" 'max-tokens 20) (effect infer.op "Say goodbye" 'max-tokens 20)))

;; int.op → a result record with exact usage and cost.
(define r (effect int.op (list "Brief summary (50 words): " "the report") '((max-tokens . 40) (model . "gpt-4o"))))
(test #t (inference-result? r))
(test "gpt-4o" (result-model r))
(test (count-tokens '((user . "Brief summary (50 words): the report")) "gpt-4o") (result-input-tokens r))
(test (count-tokens (result-text r) "gpt-4o") (result-output-tokens r))
(test #t (<= (result-output-tokens r) 40))
(test (estimate-cost "gpt-4o" (result-input-tokens r) (result-output-tokens r)) (result-cost r))
(test "simulate" (result-backend r))
(test #t (result-simulated? r))
(test 'counted (result-usage-source r))
(test #t (string? (result-request-id r)))
(test (+ (result-input-tokens r) (result-output-tokens r)) (result-total-tokens r))
;; max-tokens bounds the answer; "length" when it is cut there.
(test #t (let loop ((i 0))
           (or (= i 20)
               (let ((x (effect int.op (number->string i) 'max-tokens 6)))
                 (and (<= (result-output-tokens x) 6)
                      (or (string=? (result-finish-reason x) "stop")
                          (and (string=? (result-finish-reason x) "length") (= 6 (result-output-tokens x))))
                      (loop (+ i 1)))))))

;; Options: keyword style with or without colons, an alist, or chat messages.
(test "gpt-4" (result-model (effect int.op "x" 'model "gpt-4")))
(test "gpt-4" (result-model (effect int.op "x" 'model: "gpt-4")))
(test 7 (result-input-tokens (effect int.op '((user . "")) 'model "gpt-4o")))   ; 3 + "user" + 3
(test-error (effect infer.op "x" 'model))
(test-error (effect infer.op 42))
(test-error (effect "infer.op" "x"))
(test-error (effect infer.op "x" 'max-tokens -3))
(test-error (effect 'unknown.op "x"))

;; search.op: n samples, each its own call.
(define samples (effect search.op "ideas" 'n 3 'max-tokens 10))
(test 3 (length samples))
(test #t (inference-result? (car samples)))
(test 3 (length (delete-duplicates (map result-request-id samples))))
(test #f (equal? (result-text (car samples)) (result-text (cadr samples))))

;; Handlers: answer, change and pass on, nest (innermost first).
(test "mock: q" (with-effect-handler 'infer.op
                  (lambda (req next) (string-append "mock: " (effect-request-prompt req)))
                  (lambda () (effect infer.op "q"))))
(test '("gpt-4o-mini" #t)
      (with-effect-handler 'int.op
        (lambda (req next) (next (effect-request-with req 'model "gpt-4o-mini" 'max-tokens 5)))
        (lambda () (let ((x (effect int.op "q" 'model "gpt-4")))
                     (list (result-model x) (<= (result-output-tokens x) 5))))))
(test "outer(inner(q))"
      (with-effect-handler 'infer.op
        (lambda (req next) (string-append "outer(" (effect-request-prompt req) ")"))
        (lambda ()
          (with-effect-handler 'infer.op
            (lambda (req next) (next (effect-request-with req 'prompt (string-append "inner(" (effect-request-prompt req) ")"))))
            (lambda () (effect infer.op "q"))))))
(test "other" (with-effect-handler 'int.op (lambda (req next) "int")
                (lambda () (with-effect-handler '(infer.op) (lambda (req next) "other")
                             (lambda () (effect infer.op "q"))))))
(test "answered" (with-effect-handler #t (lambda (req next) "answered") (lambda () (effect search.op "q"))))
;; A handler's own effect goes outward, not back to itself.
(test "outer" (with-effect-handler 'infer.op (lambda (req next) "outer")
                (lambda () (with-effect-handler 'infer.op (lambda (req next) (effect infer.op "again"))
                             (lambda () (effect infer.op "q"))))))
(test "mocked" (result-text (with-effect-handler 'int.op (lambda (req next) (make-inference-result "mocked"))
                              (lambda () (effect int.op "q")))))

;; Dynamic context.
(test '(reviewer sprint "gpt-4")
      (with-agent 'reviewer
        (lambda () (with-workflow 'sprint
          (lambda () (with-model "gpt-4"
            (lambda () (with-effect-handler #t
              (lambda (req next) (list (effect-request-agent req) (effect-request-workflow req) (effect-request-model req)))
              (lambda () (effect infer.op "x"))))))))))
(test "gpt-4" (with-model "gpt-4" (lambda () (result-model (effect int.op "x")))))
(test "gpt-4o" (with-model "gpt-4" (lambda () (result-model (effect int.op "x" 'model "gpt-4o")))))
(test 'reviewer (with-agent 'reviewer current-agent))
(test #f (current-agent))

;; Failures are catchable effect errors.
(test 'server-error (guard (e ((effect-error? e) (effect-error-kind e))) (effect infer.op "x" 'simulate-fault 'server-error)))
(test 'rate-limited (guard (e ((effect-error? e) (effect-error-kind e))) (effect infer.op "x" 'simulate-fault 'rate-limit)))
(test 'timeout (guard (e ((effect-error? e) (effect-error-kind e)))
                 (effect infer.op "x" 'simulate-fault 'timeout 'timeout 0.1)))
(test 'cut-stream (guard (e ((effect-error? e) (effect-error-kind e))) (effect int.op "x" 'simulate-fault 'cut-stream)))

;; Provider fields: JSON values sent as they are; none may change what the meter reserved.
(test #t (string? (effect infer.op "x" 'provider-fields '((top_p . 0.5) (seed . 7) (tags . #("a" "b"))))))
(test-error (effect infer.op "x" 'provider-fields '((max_tokens . 100000))))
(test-error (effect infer.op "x" 'provider-fields '((n . 5))))
(test-error (effect infer.op "x" 'provider-fields '(1 2 3)))
(test-error (effect infer.op "x" 'provider-fields (list (cons 'f car))))
;; The simulator's options are checked where they are given.
(test-error (effect infer.op "x" 'simulate-latency -1))
(test-error (effect infer.op "x" 'simulate-fault 42))

;; parallel-map: order kept, errors reported without losing the rest.
(test '(1 4 9 16) (parallel-map (lambda (x) (* x x)) '(1 2 3 4)))
(test '() (parallel-map (lambda (x) x) '()))
(define texts (parallel-map (lambda (p) (effect infer.op p 'max-tokens 8)) '("a" "b" "c" "d" "e") 2))
(test (map (lambda (p) (effect infer.op p 'max-tokens 8)) '("a" "b" "c" "d" "e")) texts)
(test '(reviewer reviewer)
      (parallel-map (lambda (p) (with-agent 'reviewer
                                  (lambda () (with-effect-handler #t (lambda (req next) (next) (effect-request-agent req))
                                               (lambda () (effect infer.op p))))))
                    '("a" "b")))
(define failed (guard (e (#t e))
                 (parallel-map (lambda (x) (if (= x 2) (effect infer.op "boom" 'simulate-fault 'rate-limit) (* x 10)))
                               '(1 2 3))))
(test #t (error-object? failed))
(test #t (string? (error-object-message failed)))
(test '(10 #t 30) (map (lambda (x) (if (error-object? x) (effect-error? x) x)) (parallel-map-results failed)))
(test-error (parallel-map (lambda (x) x) '(1) 0))
;; Nested parallel-map and search.op inside a fiber.
(test '((1 2) (3 4)) (parallel-map (lambda (l) (parallel-map (lambda (x) (effect infer.op "n") x) l)) '((1 2) (3 4))))
(test '(2 2) (parallel-map (lambda (p) (length (effect search.op p 'n 2))) '("a" "b")))

;; One scheduler for every level: 8 elements × 2 nested calls are 16 in
;; flight at once (counted by a handler: a call in flight has passed it and
;; not come back).
(define in-flight 0)
(define peak 0)
(define (count-in-flight thunk)
  (with-effect-handler #t
    (lambda (req next)
      (set! in-flight (+ in-flight 1))
      (set! peak (max peak in-flight))
      (let ((r (next))) (set! in-flight (- in-flight 1)) r))
    thunk))
(define nested
  (count-in-flight
   (lambda ()
     (parallel-map (lambda (i)
                     (parallel-map (lambda (j) (effect infer.op (list "q" i j) 'max-tokens 5 'simulate-latency 0.05))
                                   '(a b) 2))
                   (iota 8) 8))))
(test 16 peak)
(test '(8 2) (list (length nested) (length (car nested))))
(test 0 in-flight)
;; The inner limit holds within each element: 3 elements × at most 2.
(set! peak 0)
(count-in-flight
 (lambda ()
   (parallel-map (lambda (i) (parallel-map (lambda (j) (effect infer.op (list "r" i j) 'simulate-latency 0.02)) '(1 2 3 4) 2))
                 '(1 2 3) 3)))
(test 6 peak)
;; A nested element runs in the dynamic context of its parallel-map call:
;; its with-budget scope, its parameters, its agent.
(define p (make-parameter 'outer))
(test '((inner reviewer) (inner reviewer))
      (parallel-map (lambda (i)
                      (parameterize ((p 'inner))
                        (with-agent 'reviewer
                          (lambda ()
                            (car (parallel-map (lambda (j) (effect infer.op "ctx" 'simulate-latency 0.01) (list (p) (current-agent)))
                                               '(1)))))))
                    '(1 2)))
(test 'outer (p))
;; Identical requests in flight at once are sent once when caching is on;
;; the others wait for that answer and are cache hits (free).
(enable-caching!)
(define same (parallel-map (lambda (i) (effect int.op "the same question" 'max-tokens 20 'simulate-latency 0.05)) (iota 5) 5))
(test '("simulate" "cache" "cache" "cache" "cache") (map result-backend same))
(test 1 (length (delete-duplicates (map result-text same))))
(test '(0 0 0 0) (map result-cost (cdr same)))
(disable-caching!)
(define again (parallel-map (lambda (i) (effect int.op "another same question" 'max-tokens 20 'simulate-latency 0.02)) (iota 3) 3))
(test '("simulate" "simulate" "simulate") (map result-backend again))
;; Effect errors name the user's call, also through a tail call.
(define (ask-failing) (effect infer.op "x" 'simulate-fault 'server-error))
(test #t (let ((e (guard (e (#t e)) (ask-failing))))
           (and (effect-error? e) (string? (error-object-message e)))))

;; 'stream is a boolean, checked where the call is made.
(test-error (effect infer.op "hi" 'stream 1))
(test #t (string? (effect infer.op "hi" 'stream #t 'max-tokens 5)))
