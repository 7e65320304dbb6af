// A host program embedding Omega: evaluate code, define a Swift procedure,
// call a Scheme procedure from Swift, and catch a Scheme error.
import Omega

do {
    let omega = try Interpreter()

    // 1. Evaluate a string and read the result back as a Swift value.
    let sum = try omega.evaluate("(apply + (map (lambda (x) (* x x)) '(1 2 3 4)))")
    print("sum of squares:", omega.int(sum) ?? -1)

    // 2. Define a procedure in Swift and use it from Scheme.
    omega.defineProcedure("host-greeting") { interp, name in
        guard let s = interp.string(name) else {
            throw interp.error("host-greeting: expected a string, got", irritants: [name])
        }
        return interp.makeString("Hello, \(s), from Swift!")
    }
    let greeting = try omega.evaluate(#"(host-greeting "Scheme")"#)
    print(omega.string(greeting) ?? "?")

    // 3. Call a Scheme procedure from Swift.
    try omega.evaluate("(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))")
    if let fib = omega.global("fib") {
        let v = try omega.call(fib, omega.value(20))
        print("fib(20) =", omega.int(v) ?? -1)
    }

    // 4. Scheme errors arrive as Swift errors with message and location.
    do {
        try omega.evaluate("(car '())", sourceName: "demo.scm")
    } catch let e as OmegaError {
        print("caught:", e.description)
    }

    // 5. A second interpreter shares nothing with the first.
    let other = try Interpreter()
    print("fib defined in the second interpreter:", other.global("fib") != nil)
} catch {
    print("embedding demo failed: \(error)")
}
