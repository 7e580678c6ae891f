package dev.prism.nn.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Every rule {@link SafetensorsFile} checks, broken one at a time: each must end in the typed error. */
class SafetensorsValidationTest {
    @TempDir
    Path dir;

    /** 8-byte length, then {@code header}, then {@code dataBytes} bytes of data. */
    static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(h.length).put(h).array();
    }

    static byte[] raw(byte[] header) {
        return ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).put(header).array();
    }

    static byte[] withLength(long n, int total) {
        return ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array();
    }

    static String t(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    static Stream<Arguments> broken() {
        return Stream.of(
                Arguments.of("shorter than the length field", new byte[5],
                        "file is 5 bytes; a safetensors file starts with an 8-byte header length"),
                Arguments.of("header length beyond the file", withLength(1000, 40),
                        "header length 1000 goes beyond the end of the file (32 bytes after the length)"),
                Arguments.of("header length above 2^63", withLength(-2, 40),
                        "header length 18446744073709551614 goes beyond the end of the file (32 bytes after the length)"),
                Arguments.of("invalid JSON", file("{\"a\":{\"dtype\":", 0),
                        "header is not valid JSON: "),
                Arguments.of("not UTF-8", raw(new byte[] {'{', '"', (byte) 0xff, '"', ':', '{', '}', '}'}),
                        "header is not valid JSON: Invalid UTF-8 start byte 0xff"),
                Arguments.of("not an object", file("[1,2]", 0), "header: expected a JSON object, found an array"),
                Arguments.of("garbage after the object", file("{} x", 0), "header is not valid JSON: "),
                Arguments.of("second object", file("{}{}", 0),
                        "header: expected only whitespace after the JSON object, found an object"),
                Arguments.of("unknown dtype", file("{" + t("a", "Q7", "[2]", 0, 2) + "}", 2),
                        "tensor 'a': unknown dtype 'Q7' (known: F64, F32, F16, BF16, F8_E4M3, F8_E5M2, I64, I32, I16, I8, U64, U32, U16, U8, BOOL)"),
                Arguments.of("lower-case dtype", file("{" + t("a", "f32", "[1]", 0, 4) + "}", 4), "tensor 'a': unknown dtype 'f32'"),
                Arguments.of("negative dimension", file("{" + t("a", "F32", "[2,-1]", 0, 0) + "}", 0),
                        "tensor 'a': shape [2,-1]: dimension 1 is negative"),
                Arguments.of("dimension above int", file("{" + t("a", "U8", "[4294967296]", 0, 0) + "}", 0),
                        "tensor 'a': shape [4294967296]: dimension 0 is above 2^31-1"),
                Arguments.of("fractional dimension", file("{" + t("a", "F32", "[2.5]", 0, 0) + "}", 0),
                        "tensor 'a': shape must be an array of integers, found a number"),
                Arguments.of("size overflows", file("{" + t("a", "F64", "[2147483647,2147483647,2147483647]", 0, 8) + "}", 8),
                        "tensor 'a': size overflows 64 bits"),
                Arguments.of("reversed offsets", file("{" + t("a", "F32", "[1]", 8, 4) + "}", 8),
                        "tensor 'a': data_offsets [8,4] are reversed (begin > end)"),
                Arguments.of("negative offset", file("{" + t("a", "F32", "[1]", -4, 0) + "}", 8),
                        "tensor 'a': data_offsets [-4,0] are negative"),
                Arguments.of("offset beyond 64 bits", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}", 4),
                        "tensor 'a': data_offsets: 99999999999999999999 does not fit in 64 bits"),
                Arguments.of("three offsets", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4),
                        "tensor 'a': data_offsets must be [begin, end], found 3 numbers"),
                Arguments.of("offsets out of range", file("{" + t("a", "F32", "[4]", 0, 16) + "}", 12),
                        "tensor 'a': data_offsets [0,16] go beyond the data section (12 bytes)"),
                Arguments.of("length is not numel × size", file("{" + t("a", "F16", "[2,3]", 0, 10) + "}", 10),
                        "tensor 'a': dtype F16 and shape [2,3] need 12 bytes, data_offsets [0,10] span 10"),
                Arguments.of("overlapping tensors", file("{" + t("a", "F32", "[4]", 0, 16) + "," + t("b", "F32", "[4]", 8, 24) + "}", 24),
                        "tensors 'a' [0,16) and 'b' [8,24) overlap"),
                Arguments.of("the same bytes twice", file("{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[2]", 0, 8) + "}", 8),
                        "tensors 'a' [0,8) and 'b' [0,8) overlap"),
                Arguments.of("a gap", file("{" + t("a", "F32", "[1]", 0, 4) + "," + t("b", "F32", "[1]", 8, 12) + "}", 12),
                        "bytes [4,8) of the data section belong to no tensor (gaps are not allowed)"),
                Arguments.of("a gap at the start", file("{" + t("a", "F32", "[1]", 4, 8) + "}", 8),
                        "bytes [0,4) of the data section belong to no tensor (gaps are not allowed)"),
                Arguments.of("bytes after the last tensor", file("{" + t("a", "F32", "[1]", 0, 4) + "}", 9),
                        "bytes [4,9) at the end of the data section belong to no tensor (expected the file to end at byte 4 of the data section)"),
                Arguments.of("duplicate names", file("{" + t("a", "F32", "[1]", 0, 4) + "," + t("a", "F32", "[1]", 4, 8) + "}", 8),
                        "header: duplicate tensor name 'a'"),
                Arguments.of("duplicate key in an entry", file("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                        "tensor 'a': duplicate key 'dtype'"),
                Arguments.of("unknown key in an entry", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4),
                        "tensor 'a': unexpected key 'x' (expected dtype, shape, data_offsets)"),
                Arguments.of("missing data_offsets", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4),
                        "tensor 'a': missing data_offsets"),
                Arguments.of("entry not an object", file("{\"a\":[1,2]}", 0),
                        "tensor 'a': expected an object with dtype, shape and data_offsets, found an array"),
                Arguments.of("metadata value not a string", file("{\"__metadata__\":{\"epoch\":3}}", 0),
                        "header: __metadata__ 'epoch' must be a string, found a number"),
                Arguments.of("metadata twice", file("{\"__metadata__\":{},\"__metadata__\":{}}", 0),
                        "header: duplicate __metadata__"),
                Arguments.of("deep nesting", file("[".repeat(100_000), 0), "header: expected a JSON object, found an array"),
                Arguments.of("deep nesting in an entry", file("{\"a\":{\"shape\":" + "[".repeat(100_000), 0),
                        "tensor 'a': shape must be an array of integers, found an array"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("broken")
    void brokenFilesFailWithTheTypedErrorNamingTheFile(String what, byte[] bytes, String expected) throws IOException {
        var e = assertThrows(WeightFileException.class, () -> SafetensorsFile.of("bad.safetensors", MemorySegment.ofArray(bytes)));
        assertEquals("bad.safetensors", e.file());
        if (!e.getMessage().startsWith("bad.safetensors: " + expected)) {
            assertEquals("bad.safetensors: " + expected, e.getMessage(), what);
        }
        // The same bytes on disk, through the mapping and the format sniffing.
        Path p = dir.resolve("bad.safetensors");
        Files.write(p, bytes);
        var onDisk = assertThrows(WeightFileException.class, () -> WeightFile.open(p).close());
        assertEquals(p.toString(), onDisk.file());
    }

    @Test
    void everyTruncationOfARealFileIsRejected() throws IOException {
        byte[] whole = Files.readAllBytes(TestFiles.weights("mixed.safetensors"));
        for (int n = 0; n < whole.length; n++) {
            byte[] cut = Arrays.copyOf(whole, n);
            assertThrows(WeightFileException.class, () -> SafetensorsFile.of("cut", MemorySegment.ofArray(cut)), "cut at " + n);
        }
        SafetensorsFile.of("whole", MemorySegment.ofArray(whole)).close();
    }

    @Test
    void emptyHeaderPaddedWithSpacesAndZeroLengthTensorsAreValid() {
        try (var f = SafetensorsFile.of("ok", MemorySegment.ofArray(file("{}      ", 0)))) {
            assertEquals(0, f.entries().size());
        }
        String h = "{" + t("e1", "F32", "[0,3]", 0, 0) + "," + t("a", "F32", "[1]", 0, 4) + "," + t("e2", "BF16", "[0]", 4, 4)
                + ",\"__metadata__\":null}";
        try (var f = SafetensorsFile.of("ok", MemorySegment.ofArray(file(h, 4)))) {
            assertEquals(3, f.entries().size());
            assertEquals(0, f.tensor("e1").numel());
        }
    }
}
