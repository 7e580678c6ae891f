package dev.prism.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every numeric option of sample, info, train, eval and bench given 0, a negative, a huge or a non-numeric
 * value where that value is wrong: one line that names the option with the expected and the found value,
 * exit status 2, and nothing written. A value a command accepts (--threads 0, --seed -1, --warmup 0, ...)
 * is not in the table. An expected line ending in "…" is a prefix (the rest holds sizes in bytes that depend
 * on the heap or the model).
 */
class NumericOptionsTest {
    @TempDir
    static Path inputs;

    private static Path weights, data, classifier;

    private static final String INT = "expected an integer from -2147483648 to 2147483647, found '";
    private static final String LONG = "expected an integer from -9223372036854775808 to 9223372036854775807, found '";

    @BeforeAll
    static void files() throws Exception {
        weights = SampleCommandTest.weights();
        data = FashionMnistFolder.write(Files.createDirectory(inputs.resolve("fmnist")), 20, 10);
        classifier = FashionMnistFolder.classifier(inputs.resolve("classifier.safetensors"), 8);
    }

    /** One wrong value: the command's valid base arguments with {@code option value} after them. */
    private record Case(String command, String option, String value, String expected) {
    }

    private static List<String> base(String command, Path out) {
        return switch (command) {
            case "sample" -> List.of("sample", "--weights", weights.toString(), "--size", "8", "--batch", "3", "--steps", "4",
                    "--threads", "2", "--out", out.resolve("grid.png").toString());
            case "info" -> List.of("info", "--model", "unet");
            case "train" -> List.of("train", "--model", "unet", "--config", "width=8,levels=2,attn=1,groups=4", "--data", data.toString(),
                    "--size", "8", "--steps", "2", "--batch", "2", "--threads", "2", "--checkpoint-every", "1", "--sample-every", "1",
                    "--sample-count", "2", "--sample-steps", "2", "--timesteps", "10", "--out", out.resolve("run").toString());
            case "eval" -> List.of("eval", "--weights", weights.toString(), "--size", "8", "--samples", "5", "--batch", "2", "--steps", "2",
                    "--classifier", classifier.toString(), "--data", data.toString(), "--threads", "2");
            case "bench" -> List.of("bench", "-k", "haar", "--size", "small", "--backends", "jvm", "--no-ceilings", "--runs", "5",
                    "--warmup", "0", "--warmup-time", "0", "--budget", "0.1", "--json", out.resolve("bench.json").toString());
            default -> throw new IllegalArgumentException(command);
        };
    }

    private static final List<Case> CASES = new ArrayList<>();

    private static void add(String command, String option, String expectedTemplate, String... values) {
        for (String v : values) {
            CASES.add(new Case(command, option, v, expectedTemplate.replace("{}", v)));
        }
    }

    /** A value picocli cannot convert: the option, the type's range, the text typed. */
    private static void unparsable(String command, String option, String type, String... values) {
        for (String v : values) {
            CASES.add(new Case(command, option, v, "prism: Invalid value for option '" + option + "': " + type + v + "' (see prism " + command + " --help)"));
        }
    }

    static {
        // prism sample (and the options it shares with eval)
        add("sample", "--batch", "prism: --batch expected >= 1, found {}", "0", "-1");
        add("sample", "--batch", "prism: --batch expected a value for which every array holds at most 2147483639 elements (the largest Java"
                + " array), found {} (the largest array for sampling {} images of 1x8x8 would hold …", "2147483647");
        unparsable("sample", "--batch", INT, "2147483648", "abc", "");
        add("sample", "--columns", "prism: --columns expected >= 1, found {}", "0", "-1");
        unparsable("sample", "--columns", INT, "1e3");
        unparsable("sample", "--seed", LONG, "9223372036854775808", "abc");
        add("sample", "--steps", "prism: --steps expected 1 to T = 1000, found {}", "0", "-1", "2147483647");
        unparsable("sample", "--steps", INT, "four");
        add("sample", "--eta", "prism: --eta expected a finite number >= 0, found {}", "-1.0", "NaN", "Infinity");
        unparsable("sample", "--eta", "expected a number, found '", "zero");
        add("sample", "--timesteps", "prism: --timesteps expected an integer from 1 to 1000000, found '{}'", "0", "-1", "1000001", "2147483647");
        unparsable("sample", "--timesteps", INT, "T");
        add("sample", "--size", "prism: --size expected H or HxW with positive integers, found '{}'", "0", "-1", "abc", "8x0", "99999999999");
        add("sample", "--size", "prism: --size expected a height and width divisible by 2 (the UNet downsamples 1 times), found {}x{}", "2147483647");
        add("sample", "--size", "prism: --size expected a value for which every array holds at most 2147483639 elements (the largest Java"
                + " array), found {}x{} (the largest array for sampling 1 image of 1x{}x{} would hold …", "2147483646");
        add("sample", "--threads", "prism: --threads expected 0 to 1024 (0: one per processor), found {}", "-1", "1025", "2147483647");
        unparsable("sample", "--threads", INT, "many");
        add("sample", "--vector-bits", "prism: --vector-bits expected 128, 256 or 512 (vector bits), found '{}'", "0", "-128", "2147483647");
        unparsable("sample", "--vector-bits", INT, "wide");

        // prism info --model
        add("info", "--width", "prism: --width expected 1 to 65536, found {}", "0", "-1", "65537", "2147483647");
        unparsable("info", "--width", INT, "wide");
        add("info", "--config", "prism: width expected >= 1, found 0", "width=0");
        add("info", "--config", "prism: levels expected 1 to 16, found 2147483647", "levels=2147483647");
        add("info", "--config", "prism: res expected >= 1, found -1", "res=-1");
        add("info", "--config", "prism: res expected 1 to 64, found 65", "res=65");
        add("info", "--config", "prism: width·mults expected at most 65536 channels at every level, found 64·2147483647 = 137438953408",
                "mults=2147483647");
        add("info", "--config", "prism: option width expected an integer, found '99999999999'", "width=99999999999");

        // prism train
        add("train", "--channels", "prism: --channels expected 1 or 3, found {}", "0", "-1", "2", "2147483647");
        add("train", "--size", "prism: --size expected >= 1, found {}", "0", "-1");
        add("train", "--size", "prism: --size expected at most 10362 for Fashion-MNIST's 20 images in one array of bytes, found {}", "2147483647");
        add("train", "--steps", "prism: --steps expected >= 1, found {}", "0", "-1");
        unparsable("train", "--steps", LONG, "9223372036854775808");
        add("train", "--batch", "prism: --batch expected >= 1, found {}", "0", "-1");
        add("train", "--batch", "prism: --batch expected a value for which every array holds at most 2147483639 elements (the largest Java"
                + " array), found {} (the largest array for training on batches of {} images of 1x8x8 (with 20 images in memory) would hold …",
                "2147483647");
        add("train", "--lr", "prism: --lr expected a finite number > 0, found {}", "0.0", "-1.0", "NaN", "Infinity");
        unparsable("train", "--lr", "expected a number, found '", "fast");
        add("train", "--warmup", "prism: --warmup expected >= 0 steps, found {}", "-1");
        add("train", "--min-lr-ratio", "prism: --min-lr-ratio expected a number in [0, 1], found {}", "-1.0", "2.0", "NaN");
        add("train", "--weight-decay", "prism: --weight-decay expected a finite number >= 0, found {}", "-1.0", "NaN", "Infinity");
        add("train", "--clip", "prism: --clip expected a finite number >= 0 (0: no clipping), found {}", "-1.0", "NaN", "Infinity");
        add("train", "--ema", "prism: --ema expected a number in [0, 1), found {}", "-1.0", "1.0", "NaN");
        add("train", "--timesteps", "prism: --timesteps expected 2 to 1000000, found {}", "0", "1", "-1", "2147483647");
        add("train", "--checkpoint-every", "prism: --checkpoint-every expected >= 1, found {}", "0", "-1");
        add("train", "--sample-every", "prism: --sample-every expected >= 0, found {}", "-1");
        add("train", "--sample-count", "prism: --sample-count expected >= 1, found {}", "0", "-1");
        add("train", "--sample-count", "prism: --sample-count expected a value for which every array holds at most 2147483639 elements (the"
                + " largest Java array), found {} (the largest array for sampling grids of {} images of 1x8x8 would hold …", "2147483647");
        add("train", "--sample-steps", "prism: --sample-steps expected >= 1 (at most --timesteps are used), found {}", "0", "-1");
        add("train", "--threads", "prism: --threads expected 0 to 1024 (0: one per processor), found {}", "-1", "2147483647");
        unparsable("train", "--seed", LONG, "abc");

        // prism eval
        add("eval", "--samples", "prism: --samples expected >= 2 (a covariance needs two images), found {}", "0", "1", "-1");
        add("eval", "--samples", "prism: --samples {}: the features of {} images (6 features and 10 logits each) needs …", "2147483647");
        add("eval", "--batch", "prism: --batch expected >= 1, found {}", "0", "-1");
        add("eval", "--timesteps", "prism: --timesteps expected an integer from 1 to 1000000, found '{}'", "0", "2147483647");
        unparsable("eval", "--seed", LONG, "abc");

        // prism bench
        add("bench", "--runs", "prism: --runs expected 5 to 100000 (a median of fewer than 5 is noise), found {}", "0", "-1", "4", "2147483647");
        add("bench", "--warmup", "prism: --warmup expected 0 to 100000, found {}", "-1", "2147483647");
        add("bench", "--warmup-time", "prism: --warmup-time expected 0 to 3600 seconds, found {}", "-1.0", "NaN", "Infinity", "1.0E300");
        add("bench", "--budget", "prism: --budget expected more than 0 and at most 3600 seconds, found {}", "0.0", "-1.0", "NaN", "Infinity");
        add("bench", "--threads", "prism: --threads expected 1 to 1024, found {}", "0", "-1", "2147483647");
        unparsable("bench", "--runs", INT, "lots");
    }

    @Test
    void everyWrongNumberEndsWithOneLineNamingTheOptionExitStatus2AndNoOutput(@TempDir Path out) throws IOException {
        List<String> failures = new ArrayList<>();
        for (Case c : CASES) {
            List<String> args = new ArrayList<>(base(c.command, out));
            args.add(c.option);
            args.add(c.value);
            CliTest.Result r = CliTest.run(args.toArray(String[]::new));
            String err = r.err().strip();
            boolean prefix = c.expected.endsWith("…");
            String want = prefix ? c.expected.substring(0, c.expected.length() - 1) : c.expected;
            boolean ok = r.code() == 2 && err.lines().count() == 1 && (prefix ? err.startsWith(want) : err.equals(want));
            if (!ok) {
                failures.add(c.command + " " + c.option + " " + c.value + ": exit " + r.code() + "\n  expected: " + c.expected + "\n  found:    "
                        + err.replace("\n", "\n            "));
            }
            try (Stream<Path> left = Files.list(out)) {
                List<Path> written = left.toList();
                if (!written.isEmpty()) {
                    failures.add(c.command + " " + c.option + " " + c.value + ": wrote " + written);
                    for (Path p : written) {
                        deleteTree(p);
                    }
                }
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " of " + CASES.size() + " cases:\n" + String.join("\n", failures));
        assertEquals(true, CASES.size() > 100, "the table holds " + CASES.size() + " cases");
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.delete(f);
            }
        }
    }
}
