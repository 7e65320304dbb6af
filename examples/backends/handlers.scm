;; Effect handlers: answer some requests here, steer the rest, tag by agent.
(define cache '())
(define (cached request next)
  (let ((hit (assoc (effect-request-prompt request) cache)))
    (if hit
        (cdr hit)
        (let ((answer (next (effect-request-with request 'model "gpt-4o-mini"))))
          (set! cache (cons (cons (effect-request-prompt request) answer) cache))
          answer))))
(with-agent 'summariser
  (lambda ()
    (with-effect-handler 'infer.op cached
      (lambda ()
        (display (effect infer.op "Summarise: tokens cost money." 'max-tokens 20)) (newline)
        (display (effect infer.op "Summarise: tokens cost money." 'max-tokens 20)) (newline)
        (display (list 'cached-prompts (length cache))) (newline)))))
