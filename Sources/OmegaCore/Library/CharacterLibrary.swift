/// Characters (R7RS 6.6).
enum CharacterLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        i.define("char?") { _, x in Value(x.isChar) }
        i.define("char->integer") { _, c in Value(fixnum: Int(try Check.char(c).value)) }
        i.define("integer->char") { _, n in
            let v = try Check.int(n)
            guard v >= 0, v <= 0x10FFFF, let s = Unicode.Scalar(UInt32(v)) else {
                throw SchemeError(.range, "not a Unicode scalar value: ", irritants: [n])
            }
            return Value(char: s)
        }
        func compare(_ name: String, fold: Bool, _ ok: @escaping (UInt32, UInt32) -> Bool) {
            i.define(name, min: 1, max: nil) { _, args in
                var prev = try Check.char(args[0], 1)
                var result = true
                for k in 1..<args.count {
                    let c = try Check.char(args[k], k + 1)
                    let a = fold ? CaseMapping.foldChar(prev) : prev, b = fold ? CaseMapping.foldChar(c) : c
                    if !ok(a.value, b.value) { result = false }
                    prev = c
                }
                return Value(result)
            }
        }
        compare("char=?", fold: false, ==); compare("char<?", fold: false, <); compare("char>?", fold: false, >)
        compare("char<=?", fold: false, <=); compare("char>=?", fold: false, >=)
        compare("char-ci=?", fold: true, ==); compare("char-ci<?", fold: true, <); compare("char-ci>?", fold: true, >)
        compare("char-ci<=?", fold: true, <=); compare("char-ci>=?", fold: true, >=)
        i.define("char-alphabetic?") { _, c in Value(try Check.char(c).properties.isAlphabetic) }
        i.define("char-numeric?") { _, c in Value(try Check.char(c).properties.numericType == .decimal) }
        i.define("char-whitespace?") { _, c in Value(try Check.char(c).properties.isWhitespace) }
        i.define("char-upper-case?") { _, c in Value(try Check.char(c).properties.isUppercase) }
        i.define("char-lower-case?") { _, c in Value(try Check.char(c).properties.isLowercase) }
        i.define("char-upcase") { _, c in Value(char: CaseMapping.upcaseChar(try Check.char(c))) }
        i.define("char-downcase") { _, c in Value(char: CaseMapping.downcaseChar(try Check.char(c))) }
        i.define("char-foldcase") { _, c in Value(char: CaseMapping.foldChar(try Check.char(c))) }
        i.define("digit-value") { _, c in
            let ch = try Check.char(c)
            guard ch.properties.numericType == .decimal, let v = ch.properties.numericValue else { return .false }
            return Value(fixnum: Int(v))
        }
    }
}
