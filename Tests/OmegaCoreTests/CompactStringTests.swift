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
