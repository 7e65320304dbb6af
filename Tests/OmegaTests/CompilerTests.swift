import Testing
@testable import OmegaCore
@testable import OmegaModels

@Suite struct CompilerTests {
    let h = try! Harness()

    func template(_ source: String) throws -> Template {
        var r = Reader(source, fileID: 0, interp: h.interp)
        let form = try #require(try r.read())
        return try CodeGenerator.generate(try h.interp.expander.expandToplevel(form), interp: h.interp)
    }

    func opcodes(_ t: Template) -> [Opcode] {
        var out: [Opcode] = []
        var pc = 0
        while pc < t.codeCount {
            let op = Opcode(rawValue: UInt8(t.code[pc] & 0xFF))!
            out.append(op)
            pc += op == .closure ? 2 + Int(t.code[pc + 1]) : (op.withoutImmediate != nil || op == .compareLocals ? 2 : 1)
        }
        return out
    }

    @Test func primitivesAreInlined() throws {
        let t = try template("(lambda (a b) (+ a (car b)))")
        let inner = try #require(t.constants[0].as(Closure.self)).template
        // `car` reads b from the frame itself (its operand rides in A).
        #expect(opcodes(inner) == [.pushLocal, .car, .add, .return])
        #expect(inner.code[1] >> 24 == 2)   // local slot 1, as slot + 1
    }

    @Test func tailCallsAreMarked() throws {
        let t = try template("(define (f n) (if (= n 0) 0 (f (- n 1))))")
        let f = try #require((0..<t.constantCount).compactMap { t.constants[$0].as(Closure.self) }.first).template
        let ops = opcodes(f)
        #expect(ops.contains(.tailCallGlobal))
        #expect(!ops.contains(.call) && !ops.contains(.callGlobal))
        #expect(!ops.contains(.frame))
    }

    /// Common pairs are one instruction (issue 18): a call of a global, an
    /// immediate subtraction whose value is pushed (its PUSH kept for the
    /// slow path), a test or subtraction of a parameter, a return of one.
    @Test func commonPairsAreFused() throws {
        let t = try template("(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))")
        let fib = try #require((0..<t.constantCount).compactMap { t.constants[$0].as(Closure.self) }.first).template
        // CALLGLOBAL writes its frame header itself: no FRAME before it.
        #expect(opcodes(fib) == [.ltImm, .jumpIfFalse, .returnLocal,
                                 .subImmPush, .push, .callGlobal,
                                 .push, .subImmPush, .push, .callGlobal, .add, .return])
        // Two locals pushed as arguments are one instruction, and so is a
        // comparison of two locals.
        let tak = try template("(define (tak x y z) (if (not (< y x)) z (tak (tak (- x 1) y z) (tak (- y 1) z x) (tak (- z 1) x y))))")
        let takCode = try #require((0..<tak.constantCount).compactMap { tak.constants[$0].as(Closure.self) }.first).template
        #expect(opcodes(takCode) == [.compareLocals, .not, .jumpIfFalse, .returnLocal,
                                     .subImmPush, .push, .pushLocal2, .callGlobal, .push,
                                     .subImmPush, .push, .pushLocal2, .callGlobal, .push,
                                     .subImmPush, .push, .pushLocal2, .callGlobal, .push,
                                     .tailCallGlobal])
        // A procedure in a variable is called as before.
        let apply = try template("(lambda (g x) (g x))")
        let inner = try #require(apply.constants[0].as(Closure.self)).template
        #expect(opcodes(inner) == [.pushLocal, .local, .tailCall])
    }

    @Test func onlyCapturedAssignedVariablesAreBoxed() throws {
        let plain = try template("(lambda (x) (lambda () x))")
        let boxed = try template("(lambda (x) (set! x 1) (lambda () x))")
        let p = try #require(plain.constants[0].as(Closure.self)).template
        let b = try #require(boxed.constants[0].as(Closure.self)).template
        #expect(!opcodes(p).contains(.makeBox))
        #expect(opcodes(b).contains(.makeBox))
    }

    @Test func letUsesFrameSlotsNotClosures() throws {
        let t = try template("(let ((a 1) (b 2)) (+ a b))")
        #expect(!opcodes(t).contains(.closure))
        #expect(!opcodes(t).contains(.call))
        #expect(t.frameSize == 2)
    }

    @Test func namedLetLoopsAreJumpsInTheFrame() throws {
        let t = try template("(let loop ((i 0)) (if (< i 10) (loop (+ i 1)) i))")
        let ops = opcodes(t)
        #expect(ops.contains(.loopJump))
        #expect(!ops.contains(.closure) && !ops.contains(.tailCall))
        // A loop name used as a value (or called outside tail position) needs a closure.
        let escaping = try template("(let loop ((i 0)) (if (< i 10) (+ 1 (loop (+ i 1))) i))")
        #expect(!opcodes(escaping).contains(.loopJump))
    }

    @Test func redefiningAnInlinedPrimitiveIsHonoured() throws {
        #expect(try h.eval("(define (f a b) (+ a b)) (f 1 2)") == "3")
        #expect(try h.eval("(set! + (lambda (a b) (* a b))) (f 3 4)") == "12")
        #expect(try h.eval("(define (car x) 'mine) (car '(1 2))") == "mine")
    }

    @Test func syntaxErrorsNameTheLocation() throws {
        func failure(_ s: String) -> OmegaError? {
            do { _ = try h.interp.evaluate(s, sourceName: "bad.scm"); return nil } catch { return error as? OmegaError }
        }
        let e1 = try #require(failure("\n(if)"))
        #expect(e1.kind == .syntax)
        #expect(e1.location == "bad.scm:2:1")
        let e2 = try #require(failure("(lambda (x x) x)"))
        #expect(e2.message.contains("duplicate parameter x"))
        let e3 = try #require(failure("(let ((x)) x)"))
        #expect(e3.message.contains("bad binding"))
        let e4 = try #require(failure("(+ 1 (define x 2))"))
        #expect(e4.message.contains("define"))
        let e5 = try #require(failure("()"))
        #expect(e5.kind == .syntax)
    }
}
