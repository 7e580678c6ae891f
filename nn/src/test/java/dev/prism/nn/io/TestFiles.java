package dev.prism.nn.io;

import dev.prism.testing.Npz;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** The committed weight files of {@code tools/refgen/weights.py} and their expected values. */
final class TestFiles {
    private TestFiles() {
    }

    /** {@code /weights/<name>} on the test class path, as a file. */
    static Path weights(String name) {
        URL url = TestFiles.class.getResource("/weights/" + name);
        if (url == null) {
            throw new IllegalArgumentException("test file weights/" + name + " is missing; regenerate with /usr/bin/python3 tools/refgen/weights.py");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The float32 values PyTorch gives for every float tensor of {@code name}. */
    static Npz expected(String name) {
        String res = "/weights/expected/" + name + ".npz";
        try (InputStream in = TestFiles.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new IllegalArgumentException(res + " is missing; regenerate with /usr/bin/python3 tools/refgen/weights.py");
            }
            return Npz.read(res, in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
