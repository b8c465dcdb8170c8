/** Branded ids, so a task id cannot be passed where a step id is wanted. */
export type WorkerId = string & { readonly __brand: 'WorkerId' };
export type StepId = number & { readonly __brand: 'StepId' };
export type TaskId = number & { readonly __brand: 'TaskId' };

export const workerId = (value: string): WorkerId => value as WorkerId;
export const stepId = (value: number): StepId => value as StepId;
export const taskId = (value: number): TaskId => value as TaskId;
