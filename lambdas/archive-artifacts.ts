// Placeholder so the CDK entry exists while the handler is written; replaced by the real handler.
export const handler = async (): Promise<never> => {
  throw new Error('handler not built yet');
};
