package dev.prism.nn.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.prism.nn.Tensor;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;

/**
 * Fuzzes the two parsers that read untrusted bytes: {@link SafetensorsFile} (header length, JSON header,
 * offsets, conversion) and {@link TorchPickle} (the restricted unpickler). For any input the only
 * exception allowed out is {@link WeightFileException}; anything else (a {@code ClassCastException}, an
 * {@code OutOfMemoryError}, a {@code StackOverflowError}) fails the test with the input that caused it,
 * and Jazzer's sanitizers fail it if parsing ever reaches a process, reflection, a file or the network.
 *
 * <h2>Default run: regression mode</h2>
 * Without {@code JAZZER_FUZZ} in the environment, {@code mvn verify} runs each method once per input
 * of its seed corpus, {@code src/test/resources/dev/prism/nn/io/WeightFilesFuzzTestInputs/<method>/}
 * (the committed weight files and their pickles, written by {@code tools/refgen/weights.py}), plus
 * the empty input and any crash files saved there earlier; that takes seconds. {@code @Timeout}
 * fails an input that takes more than 10 seconds (a hang); while fuzzing, Jazzer passes the same limit
 * to libFuzzer as its per-input timeout.
 *
 * <h2>Fuzzing for longer</h2>
 * <pre>
 * JAZZER_FUZZ=1 JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 ./mvnw -B -o -pl tornado-kernels,nn test-compile surefire:test@heap-256m \
 *     -Dtest='WeightFilesFuzzTest#torchPickle' -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Djunit.jupiter.execution.timeout.mode=disabled \
 *     -Djazzer.max_duration=10m -Djazzer.instrumentation_includes='dev.prism.**:net.razorvine.**'
 * </pre>
 * {@code junit.jupiter.execution.timeout.mode=disabled}: JUnit would otherwise apply {@code @Timeout} to the
 * whole fuzzing run, which is one invocation, and stop it after 10 seconds. The class runs in the nn module's
 * {@code heap-256m} execution, which {@code surefire:test@heap-256m} runs alone.
 * One method at a time ({@code #safetensors} or {@code #torchPickle}). {@code jazzer.max_duration}
 * bounds the run (default: {@code maxDuration}, five minutes). {@code instrumentation_includes} adds
 * coverage feedback from the library doing the parsing ({@code com.fasterxml.**} for safetensors,
 * {@code net.razorvine.**} for pickles); without it only Prism's own classes guide the fuzzer. A
 * failing input is written to the seed directory above, where the default run replays it from then on:
 * commit it with the fix. The generated corpus goes to {@code nn/.cifuzz-corpus/}, which git ignores.
 */
class WeightFilesFuzzTest {

    @FuzzTest(maxDuration = "5m")
    @Timeout(10)
    void safetensors(byte[] bytes) {
        try (SafetensorsFile f = SafetensorsFile.of("fuzz.safetensors", MemorySegment.ofArray(bytes))) {
            for (SafetensorsFile.Entry e : f.entries()) {
                if (e.dtype().loadsAsFloat() && e.numel() <= 1 << 20) {
                    Tensor t = e.toTensor();
                    if (t.numel() != e.numel()) {
                        throw new AssertionError("tensor '" + e.name() + "' has " + t.numel() + " elements, its entry " + e.numel());
                    }
                }
            }
        } catch (WeightFileException expected) {
            if (!expected.getMessage().startsWith("fuzz.safetensors: ")) {
                throw new AssertionError("message does not name the file: " + expected.getMessage());
            }
        }
    }

    @FuzzTest(maxDuration = "5m")
    @Timeout(10)
    void torchPickle(byte[] bytes) {
        try {
            TorchPickle.Parsed p = TorchPickle.parse("fuzz.pth", bytes);
            for (TorchPickle.TensorRef t : p.tensors().values()) {
                if (t.numel() > 0 && t.lastElement() >= t.storage().numel()) {
                    throw new AssertionError("a view beyond its storage was accepted");
                }
            }
        } catch (WeightFileException expected) {
            if (!expected.getMessage().startsWith("fuzz.pth: ")) {
                throw new AssertionError("message does not name the file: " + expected.getMessage());
            }
        }
    }
}
