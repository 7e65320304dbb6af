;; Token counting, prices and conversions (issue 4). Counts are exact
;; tiktoken counts: the rank files come from scripts/setup.

(test 2 (count-tokens "hello world" "gpt-4o"))
(test 2 (count-tokens "hello world" 'gpt-4))
(test #t (token-count-exact? "gpt-4o"))
(test #t (token-count-exact? "gpt-3.5-turbo"))
(test #f (token-count-exact? "claude-sonnet-4-5"))
;; A list prompt is displayed and joined, as (effect infer.op (list …)) reads it.
(test (count-tokens "Brief summary (50 words): 42 items" "gpt-4o")
      (count-tokens (list "Brief summary (50 words): " 42 " items") "gpt-4o"))
;; A message list adds OpenAI's framing: 3 per message and 3 for the reply.
(test (+ 3 3 3 (count-tokens "system" "gpt-4o") (count-tokens "Be terse." "gpt-4o")
         (count-tokens "user" "gpt-4o") (count-tokens "Hi" "gpt-4o"))
      (count-tokens '((system . "Be terse.") (user . "Hi")) "gpt-4o"))
(test 0 (count-tokens "" "gpt-4o"))
(test-error (count-tokens 42))
(test-error (count-tokens "x" 42))

;; Money is exact: dollars as exact rationals.
(test 3/400 (estimate-cost "gpt-4o" 1000 500))
(test 29/4000 (estimate-cost "gpt-4o" 1000 500 200))
(test "$0.00725" (format-usd (estimate-cost "gpt-4o" 1000 500 200)))
(test #t (exact? (estimate-cost "gpt-4o-mini" 123 456)))
(test "$0.15" (format-usd (estimate-cost "gpt-4o-mini" 1000000 0)))
(test "$10.00" (format-usd 10))
(test "$0.10" (format-usd 0.1))
(test-error (estimate-cost "no-such-model" 1 1))
(test-error (estimate-cost "gpt-4o" -1 1))

(test "gpt-4o" (cdr (assq 'model (model-price "gpt-4o"))))
(test 1/400000 (cdr (assq 'input (model-price "gpt-4o"))))
(test 128000 (cdr (assq 'context (model-price "gpt-4o"))))
(test #f (cdr (assq 'cache-write (model-price "gpt-4o"))))
(test "claude-haiku-4-5" (cdr (assq 'model (model-price 'claude-haiku))))

;; 4 hours = $10; money buys tokens at the output price.
(test 10 (time->cost 240))
(test 5/8 (time->cost 15))
(test 44642 (time->tokens 15 "gpt-5.2"))
(test 178571 (time->tokens 60 "gpt-5.2"))
(test 714285 (cost->tokens 10 "gpt-5.2"))
(test-error (time->cost -1))
