import Foundation
import OmegaCore

/// The Unicode character classes the pre-tokenisation patterns ask about, one
/// byte of flags per scalar.
///
/// The patterns only ever test `\p{L}`, `\p{N}`, `\s` (White_Space), `\r\n`,
/// and o200k's two letter groups, so a scalar's answer to all of them fits in
/// a byte. ASCII and the rest of the Basic Multilingual Plane come from a table
/// built once (≈ 65,536 property lookups, a few milliseconds); scalars above it
/// (emoji, rare CJK) ask Swift's Unicode properties directly.
struct CharacterClasses: Sendable {
    /// `\p{L}`: any letter.
    static let letter: UInt8 = 1
    /// `\p{N}`: any number.
    static let number: UInt8 = 2
    /// `\s`: the White_Space property.
    static let space: UInt8 = 4
    /// o200k's "upper" group: `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`.
    static let upperGroup: UInt8 = 8
    /// o200k's "lower" group: `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`.
    static let lowerGroup: UInt8 = 16
    /// `\r` or `\n`.
    static let newline: UInt8 = 32

    /// Letters, numbers and spaces: what the "other" classes `[^\s\p{L}\p{N}]` exclude.
    static let wordOrSpace: UInt8 = letter | number | space

    /// The flags of every BMP scalar (surrogates get 0).
    let bmp: [UInt8]

    /// The table is the same for every tokenizer; build it once.
    static let shared = CharacterClasses()

    private init() {
        var table = [UInt8](repeating: 0, count: 0x10000)
        for v in 0..<0x10000 {
            if let s = Unicode.Scalar(UInt32(v)) { table[v] = CharacterClasses.compute(s) }
        }
        bmp = table
    }

    @inline(__always) func flags(_ v: UInt32) -> UInt8 {
        if v < 0x10000 { return bmp.withUnsafeBufferPointer { $0[Int(v)] } }
        guard let s = Unicode.Scalar(v) else { return 0 }
        return CharacterClasses.compute(s)
    }

    /// The Unicode White_Space property: a fixed set of 25 scalars, checked
    /// directly because asking Swift's property tables costs as much as the
    /// general category does.
    static func isWhiteSpace(_ v: UInt32) -> Bool {
        switch v {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    static func compute(_ s: Unicode.Scalar) -> UInt8 {
        var f: UInt8 = 0
        let p = s.properties
        switch p.generalCategory {
        case .uppercaseLetter, .titlecaseLetter: f = letter | upperGroup
        case .lowercaseLetter: f = letter | lowerGroup
        case .modifierLetter, .otherLetter: f = letter | upperGroup | lowerGroup
        case .nonspacingMark, .spacingMark, .enclosingMark: f = upperGroup | lowerGroup
        case .decimalNumber, .letterNumber, .otherNumber: f = number
        default: break
        }
        if isWhiteSpace(s.value) { f |= space }
        if s == "\r" || s == "\n" { f |= newline }
        return f
    }
}
