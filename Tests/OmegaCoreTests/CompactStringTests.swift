import Testing
@testable import OmegaCore

/// Strings are one byte a character while ASCII (issue 18): the heap
/// counts what they take, and they widen only when they must.
@Suite struct CompactStringTests {
    @Test func asciiStringsTakeOneByteACharacter() throws {
        let omega = try Interpreter()
        let ascii = try omega.evaluate("(make-string 1000 #\\a)").unsafeObject(SchemeString.self)
        #expect(ascii.approximateSize == 48 + 1000)
        let wide = try omega.evaluate("(make-string 1000 #\\λ)").unsafeObject(SchemeString.self)
        #expect(wide.approximateSize == 48 + 4000)
        let widened = try omega.evaluate("(let ((s (make-string 1000 #\\a))) (string-set! s 999 #\\λ) s)").unsafeObject(SchemeString.self)
        #expect(widened.approximateSize == 48 + 4000)
        #expect(widened.string == String(repeating: "a", count: 999) + "λ")
        let appended = try omega.evaluate("(string-append (make-string 10 #\\a) \"b\")").unsafeObject(SchemeString.self)
        #expect(appended.approximateSize == 48 + 11)
    }
}

extension CompactStringTests {
    /// `make-string` of an ASCII character reserves and builds one byte a
    /// character (a 64 MB heap holds a 40-million-character string).
    @Test func makeStringOfASCIIFitsWhereFourBytesWouldNot() throws {
        var options = Interpreter.Options()
        options.memoryLimit = 64 << 20
        let omega = try Interpreter(options: options)
        #expect(try omega.evaluate("(string-length (make-string 40000000 #\\a))").fixnum == 40_000_000)
        #expect(throws: (any Error).self) { try omega.evaluate("(make-string 40000000 #\\λ)") }
    }
}
