/*
 * Vector table and reset handler of the C firmware (the recipe of
 * docs/embedded.md §9): copy .data, clear .bss, switch the FPU on, open the
 * semihosting handles, run the C library's constructors, _exit(main()).
 * Semihosting turns the exit status into QEMU's. (_exit rather than exit:
 * the firmware writes with write(), so there is no stdio to flush, and
 * exit's flushing would bring some 2 KB of stdio into flash.)
 */
#include <stdint.h>
#include <unistd.h>

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);
extern int main(void);

void reset_handler(void);
void fault_handler(void);

/* newlib's __libc_init_array calls these; nothing to do here. */
void _init(void) {}
void _fini(void) {}

void reset_handler(void) {
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    /* CPACR: full access to coprocessors 10 and 11 (the FPU). */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm volatile("dsb\n\tisb" ::: "memory");
    initialise_monitor_handles();
    __libc_init_array();
    _exit(main());
}

/* Any fault ends the run with status 3. */
void fault_handler(void) { _exit(3); }

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&_estack),
    reset_handler,
    fault_handler, /* NMI */
    fault_handler, /* HardFault */
    fault_handler, /* MemManage */
    fault_handler, /* BusFault */
    fault_handler, /* UsageFault */
    0, 0, 0, 0,
    fault_handler, /* SVCall */
    fault_handler, /* DebugMonitor */
    0,
    fault_handler, /* PendSV */
    fault_handler, /* SysTick */
};
