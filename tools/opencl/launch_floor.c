/*
 * launch_floor: what the OpenCL device itself costs per kernel launch, and what a plain element-wise
 * kernel over 262,144 floats costs on it, with no TornadoVM in between. Prism's TornadoVM rows in
 * docs/BENCHMARKS.md are read against these figures ("Every kernel against jvm-plain, and what TornadoVM's
 * code costs on PoCL"), and the kernels in TornadoVM's shape show what its generated loops cost.
 *
 *   gcc -O2 -o /tmp/launch_floor tools/opencl/launch_floor.c -lOpenCL && /tmp/launch_floor
 *
 * Needs a C compiler, an OpenCL ICD and headers (scripts/setup-machine.sh opencl tornadovm installs them
 * and PoCL, as scripts/build-tornadovm.sh does). Uses the first device of the first platform. Each kernel
 * runs with the driver's own work-group size (local "auto") and with fixed sizes; each row gives the time
 * of one launch followed by clFinish, and the time per launch when many are queued and finished once.
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

#define CHECK(call)                                                                    \
    do {                                                                               \
        cl_int err_ = (call);                                                          \
        if (err_ != CL_SUCCESS) {                                                      \
            fprintf(stderr, "launch_floor: %s failed with OpenCL error %d\n", #call, err_); \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

/* The SiLU kernels differ only in the precision of the logistic, as Prism's kernels (double) and PyTorch's (float). */
static const char *SOURCE =
    "__kernel void empty(__global const float *x, __global float *y) { }\n"
    "__kernel void affine(__global const float *x, __global float *y) {\n"
    "    int i = get_global_id(0); y[i] = (x[i] - 0.5f) * 1.5f + 0.25f; }\n"
    "__kernel void silu_float(__global const float *x, __global float *y) {\n"
    "    int i = get_global_id(0); float v = x[i]; y[i] = v / (1.0f + exp(-v)); }\n"
    "__kernel void silu_double(__global const float *x, __global float *y) {\n"
    "    int i = get_global_id(0); float v = x[i]; y[i] = (float) (v * (1.0 / (1.0 + exp(-(double) v)))); }\n"
    /* The same as silu_double in the shape TornadoVM 5.2 emits for Prism's activation.silu (read with
       -Dtornado.printKernel=true): a loop striding by the global size, its bound read from a buffer, and
       addresses computed as integers past a 16-byte array header (the buffers here have room for it). */
    "__kernel void silu_double_tornado_shape(__global const float *x, __global float *y, __global const long *context) {\n"
    "    ulong xa = (ulong) x; ulong ya = (ulong) y; int stride = get_global_size(0); int len = context[0];\n"
    "    for (int i = get_global_id(0); i < len; i += stride) {\n"
    "        long off = (((long) i) << 2) + 16L;\n"
    "        double d = (double) *((__global const float *) (xa + off));\n"
    "        *((__global float *) (ya + off)) = (float) ((1.0 / (exp(-d) + 1.0)) * d); } }\n"
    /* Each half of that shape alone: the striding loop with plain indexing, and integer addresses without the loop. */
    "__kernel void silu_double_stride_loop(__global const float *x, __global float *y, __global const long *context) {\n"
    "    int stride = get_global_size(0); int len = context[0];\n"
    "    for (int i = get_global_id(0); i < len; i += stride) {\n"
    "        double d = (double) x[i + 4]; y[i + 4] = (float) ((1.0 / (exp(-d) + 1.0)) * d); } }\n"
    "__kernel void silu_double_int_address(__global const float *x, __global float *y, __global const long *context) {\n"
    "    ulong xa = (ulong) x; ulong ya = (ulong) y; long off = (((long) get_global_id(0)) << 2) + 16L;\n"
    "    double d = (double) *((__global const float *) (xa + off));\n"
    "    *((__global float *) (ya + off)) = (float) ((1.0 / (exp(-d) + 1.0)) * d); }\n";

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 500;
    if (reps < 10) {
        fprintf(stderr, "launch_floor: repetitions expected at least 10, found '%s'\n", argv[1]);
        return 2;
    }
    cl_platform_id platform;
    cl_device_id device;
    cl_int err;
    CHECK(clGetPlatformIDs(1, &platform, NULL));
    CHECK(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL));
    char name[256];
    CHECK(clGetDeviceInfo(device, CL_DEVICE_NAME, sizeof name, name, NULL));
    cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    CHECK(err);
    cl_command_queue queue = clCreateCommandQueue(context, device, 0, &err);
    CHECK(err);
    cl_program program = clCreateProgramWithSource(context, 1, &SOURCE, NULL, &err);
    CHECK(err);
    CHECK(clBuildProgram(program, 1, &device, "", NULL, NULL));

    size_t n = 262144; /* 1 x 64 x 64 x 64, the model size of prism bench */
    size_t bytes = n * sizeof(float) + 16;
    float *host = malloc(bytes);
    for (size_t i = 0; i < n + 4; i++) {
        host[i] = (float) ((long) (i % 2001) - 1000) / 100.0f;
    }
    cl_mem x = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, bytes, host, &err);
    CHECK(err);
    cl_mem y = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    CHECK(err);

    printf("device: %s, %d repetitions per row, milliseconds per launch\n", name, reps);
    printf("%-26s %-8s %-8s %14s %14s\n", "kernel", "global", "local", "launch+finish", "queued");
    long len = (long) n;
    cl_mem context_buffer = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof len, &len, &err);
    CHECK(err);
    const char *kernels[] = {"empty", "affine", "silu_float", "silu_double", "silu_double_tornado_shape",
                             "silu_double_stride_loop", "silu_double_int_address"};
    size_t locals[] = {0, 8, 64, 256};
    for (int k = 0; k < 7; k++) {
        cl_kernel kernel = clCreateKernel(program, kernels[k], &err);
        CHECK(err);
        CHECK(clSetKernelArg(kernel, 0, sizeof(cl_mem), &x));
        CHECK(clSetKernelArg(kernel, 1, sizeof(cl_mem), &y));
        if (k >= 4) {
            CHECK(clSetKernelArg(kernel, 2, sizeof(cl_mem), &context_buffer));
        }
        size_t global = k == 0 ? 8 : n;
        for (int l = 0; l < (k == 0 ? 2 : 4); l++) {
            size_t local = locals[l];
            size_t *localp = local == 0 ? NULL : &local;
            for (int i = 0; i < 20; i++) {
                CHECK(clEnqueueNDRangeKernel(queue, kernel, 1, NULL, &global, localp, 0, NULL, NULL));
                CHECK(clFinish(queue));
            }
            double t0 = now_ms();
            for (int i = 0; i < reps; i++) {
                CHECK(clEnqueueNDRangeKernel(queue, kernel, 1, NULL, &global, localp, 0, NULL, NULL));
                CHECK(clFinish(queue));
            }
            double t1 = now_ms();
            for (int i = 0; i < reps; i++) {
                CHECK(clEnqueueNDRangeKernel(queue, kernel, 1, NULL, &global, localp, 0, NULL, NULL));
            }
            CHECK(clFinish(queue));
            double t2 = now_ms();
            char localText[16];
            snprintf(localText, sizeof localText, local == 0 ? "auto" : "%zu", local);
            printf("%-26s %-8zu %-8s %14.4f %14.4f\n", kernels[k], global, localText, (t1 - t0) / reps, (t2 - t1) / reps);
        }
        clReleaseKernel(kernel);
    }
    clReleaseMemObject(context_buffer);
    clReleaseMemObject(x);
    clReleaseMemObject(y);
    clReleaseProgram(program);
    clReleaseCommandQueue(queue);
    clReleaseContext(context);
    free(host);
    return 0;
}
