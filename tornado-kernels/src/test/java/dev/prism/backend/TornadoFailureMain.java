package dev.prism.backend;

import dev.prism.kernels.KernelRegistry;

import java.util.Arrays;
import java.util.Map;

/**
 * Runs one {@link RefusedKernels} kernel through the TornadoVM backend in a process of its own and ends
 * the way the {@code prism} command line does: the failure's message on stderr and {@code System.exit}.
 * {@link TornadoFailureTest} starts it, because a TornadoVM compilation that hangs cannot be stopped
 * inside a process. Arguments: the kernel method's name and the compile time limit in seconds;
 * {@code -Dtornado.recover.bailout=true} stands for {@code --allow-bailout}, as in the launcher.
 */
public final class TornadoFailureMain {
    private TornadoFailureMain() {
    }

    public static void main(String[] args) {
        String name = args[0];
        long limit = Long.parseLong(args[1]);
        boolean allowBailout = Boolean.getBoolean("tornado.recover.bailout");
        KernelRegistry.register("refused", RefusedKernels.class);
        int n = 64;
        float[] x = new float[n];
        float[] y = new float[n];
        Arrays.fill(x, 1f);
        Object[] kernelArgs = name.equals("strided") ? new Object[] {x, y, n, 3} : new Object[] {x, y, n};
        // The loops and the lanes are never run here: TornadoVM runs its own copy of the kernel method.
        Launch launch = new Launch("refused." + name, kernelArgs, new int[] {1}, n, () -> { }, (from, to) -> { }, n, 8L * n);
        Plan plan = Plan.builder("failure").add(launch).inputs(x).outputs(y).build();
        Backend tornado = TornadoSupport.open(new TornadoSettings(0, Map.of(), allowBailout, Map.of(), 0, limit));
        long t0 = System.nanoTime();
        int code;
        try (Executable e = tornado.compile(plan)) {
            e.execute();
            System.err.println("ran: y[1] = " + y[1]);
            code = 0;
        } catch (DeviceException e) {
            System.err.println("prism: " + e.getMessage());
            System.err.println("failure: " + e.getClass().getSimpleName() + " phase=" + e.phase()
                    + " after_ms=" + (System.nanoTime() - t0) / 1_000_000);
            code = 1;
        }
        System.exit(code);
    }
}
